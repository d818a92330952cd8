-- One row per day, 2020-01-01 to 2030-12-31: the time spine MetricFlow joins metrics to
-- (dbt's semantic layer requires one). A table, because MetricFlow reads it in every query.
{{ date_spine("cast('2020-01-01' as date)", "cast('2030-12-31' as date)") }}
