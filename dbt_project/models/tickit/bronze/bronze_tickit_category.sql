-- One row per event category.
{{ cleaned_and_deduplicated_sql(source('tickit', 'category'), [
    ('catid', 'catid'),
    ('catgroup', 'trim(catgroup)'),
    ('catname', 'trim(catname)'),
    ('catdesc', 'trim(catdesc)'),
], 'catid') }}
