{#-
    Portable rounding to a fixed-scale decimal. The result is cast so every engine (DuckDB,
    Spark SQL, Redshift) returns the same type.
-#}
{% macro round_decimal(expr, scale=2, precision=18) -%}
    cast(round({{ expr }}, {{ scale }}) as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{#- Money amounts: 2 decimals, decimal(18,2). Every money column in silver and gold goes through it. -#}
{% macro round_money(expr) -%}
    {{ round_decimal(expr, 2, 18) }}
{%- endmacro %}

{#-
    Average as a decimal with 10 decimals, so that rounding it afterwards is exact (half up):
    - Redshift's AVG keeps the input's scale (integer in -> integer out; decimal(12,2) in ->
      truncated to 2 decimals), so the argument is widened first;
    - DuckDB's AVG of a decimal returns DOUBLE (21.005 -> 21.00499999...), so the result is cast
      back to a decimal, which rounds to the nearest 1e-10 and recovers the exact value.
-#}
{% macro exact_avg(expr) -%}
    cast(avg(cast({{ expr }} as decimal(28, 10))) as decimal(28, 10))
{%- endmacro %}
