-- Current version of each user: the version with the latest updated_at (ties fall back to
-- last-loaded). The snapshot snap_users reads this model to keep the history of the columns
-- that matter (email, country).
with versions as (

    select * from {{ ref('bronze_users') }}

),

current_version as (

    {{ dedupe('versions', ['user_id'], ['updated_at desc nulls last'] + last_loaded_order()) }}

)

select
    user_id,
    name,
    email,
    country,
    created_at,
    updated_at,
    _loaded_at,
    _source_key
from current_version
