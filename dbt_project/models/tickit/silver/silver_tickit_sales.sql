-- Every sale with what the department reports group by: the event (name, category, venue) and
-- the calendar of the day it was sold (year, quarter). Inner joins: a sale whose event or day is
-- unknown is caught by the bronze relationships tests, not silently dropped here unnoticed.
select
    s.salesid,
    s.listid,
    s.sellerid,
    s.buyerid,
    s.eventid,
    e.eventname,
    e.catid,
    e.venueid,
    s.dateid,
    d.caldate as sale_date,
    d.year as sale_year,
    d.qtr as sale_quarter,
    s.qtysold,
    s.pricepaid,
    s.commission,
    s.saletime
from {{ ref('bronze_tickit_sales') }} as s
inner join {{ ref('bronze_tickit_event') }} as e on s.eventid = e.eventid
inner join {{ ref('bronze_tickit_date') }} as d on s.dateid = d.dateid
