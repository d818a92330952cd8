-- One row per venue; 0 seats (unknown in the published file) becomes null.
{{ cleaned_and_deduplicated_sql(source('tickit', 'venue'), [
    ('venueid', 'venueid'),
    ('venuename', 'trim(venuename)'),
    ('venuecity', 'trim(venuecity)'),
    ('venuestate', 'trim(venuestate)'),
    ('venueseats', 'nullif(venueseats, 0)'),
], 'venueid') }}
