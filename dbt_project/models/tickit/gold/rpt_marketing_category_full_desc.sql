-- Marketing: every category with the long description marketing keeps in a seed
-- (seeds/tickit_category_descriptions.csv); null when the seed lacks the category (a warning
-- test says so).
select
    c.catid,
    c.catgroup,
    c.catname,
    c.catdesc,
    d.full_description
from {{ ref('bronze_tickit_category') }} as c
left join {{ ref('tickit_category_descriptions') }} as d on c.catid = d.catid
