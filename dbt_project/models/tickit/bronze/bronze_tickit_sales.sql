-- One row per sale.
{{ cleaned_and_deduplicated_sql(source('tickit', 'sales'), [
    ('salesid', 'salesid'),
    ('listid', 'listid'),
    ('sellerid', 'sellerid'),
    ('buyerid', 'buyerid'),
    ('eventid', 'eventid'),
    ('dateid', 'dateid'),
    ('qtysold', 'qtysold'),
    ('pricepaid', 'pricepaid'),
    ('commission', 'commission'),
    ('saletime', 'saletime'),
], 'salesid') }}
