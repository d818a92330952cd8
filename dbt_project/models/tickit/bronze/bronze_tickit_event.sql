-- One row per event.
{{ cleaned_and_deduplicated_sql(source('tickit', 'event'), [
    ('eventid', 'eventid'),
    ('venueid', 'venueid'),
    ('catid', 'catid'),
    ('dateid', 'dateid'),
    ('eventname', 'trim(eventname)'),
    ('starttime', 'starttime'),
], 'eventid') }}
