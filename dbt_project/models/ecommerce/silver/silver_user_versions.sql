-- Every recorded version of every user (a new one when email or country changed) with the
-- half-open interval [valid_from, valid_to) in which it was current, read from the SCD2
-- snapshot snap_users. The first version recorded for a user counts as valid since the
-- beginning of time (the snapshot records history from its first run on).
{{ config(materialized='ephemeral') }}

with snapshot as (

    select * from {{ ref('snap_users') }}

)

select
    user_id,
    email,
    country,
    case
        when row_number() over (partition by user_id order by dbt_valid_from) = 1
            then cast('1900-01-01 00:00:00' as timestamp)
        else dbt_valid_from
    end as valid_from,
    dbt_valid_to as valid_to,
    _loaded_at
from snapshot
