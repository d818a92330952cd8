-- One row per calendar day.
{{ cleaned_and_deduplicated_sql(source('tickit', 'date'), [
    ('dateid', 'dateid'),
    ('caldate', 'caldate'),
    ('day', 'trim(day)'),
    ('week', 'week'),
    ('month', 'trim(month)'),
    ('qtr', 'qtr'),
    ('year', 'year'),
    ('holiday', 'holiday'),
], 'dateid') }}
