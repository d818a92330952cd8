{{ config(materialized='view') }}
-- Technology: every user; name, email and phone are masked unless the reading role may see PII
-- (macros/governance/masking.sql: a member of the `pii_reader_role` setting on PostgreSQL and
-- Redshift; everyone on DuckDB, which has no roles). A view, so the check runs as the reader.
select
    userid,
    username,
    {{ mask_pii('firstname') }} as firstname,
    {{ mask_pii('lastname') }} as lastname,
    city,
    state,
    {{ mask_pii('email') }} as email,
    {{ mask_pii('phone') }} as phone
from {{ ref('bronze_tickit_users') }}
