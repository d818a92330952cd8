-- One row per listing.
{{ cleaned_and_deduplicated_sql(source('tickit', 'listing'), [
    ('listid', 'listid'),
    ('sellerid', 'sellerid'),
    ('eventid', 'eventid'),
    ('dateid', 'dateid'),
    ('numtickets', 'numtickets'),
    ('priceperticket', 'priceperticket'),
    ('totalprice', 'totalprice'),
    ('listtime', 'listtime'),
], 'listid') }}
