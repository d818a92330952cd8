-- The engine's limit: the three gold tables of docs/CONTRACTS.md computed by one hand-written
-- DuckDB script straight from the landing files on local disk. No orchestration, no raw tables,
-- no bronze/silver, no tests: what the same engine needs at the least for the same answer.
-- `{landing}` is replaced by the landing folder (…/landing, holding
-- <domain>/<dataset>/<date>/<file>); the three gold tables read the `ecommerce` domain only.
--
-- "Last-loaded wins": files are delivered in key order within a dataset
-- (<domain>/<dataset>/<YYYY-MM-DD>/<dataset>_<date>_part<N>), so the file name stands in for
-- the load order; repeated deliveries carry identical content anyway.

SET TimeZone = 'UTC';
CREATE SCHEMA IF NOT EXISTS gold;

CREATE OR REPLACE TEMP TABLE orders AS
WITH landed AS (
    SELECT order_id, created_at, quantity, unit_price, status, filename
    FROM read_csv('{landing}/ecommerce/orders/*/*.csv', header = true, auto_detect = false, filename = true,
        columns = {'order_id': 'VARCHAR', 'created_at': 'TIMESTAMP', 'user_id': 'VARCHAR',
                   'product_id': 'VARCHAR', 'quantity': 'INTEGER', 'unit_price': 'DECIMAL(12,2)',
                   'status': 'VARCHAR'})
    UNION ALL
    SELECT order_id, created_at, quantity, unit_price, status, filename
    FROM read_parquet('{landing}/ecommerce/orders/*/*.parquet', filename = true)
)
SELECT trim(order_id) AS order_id, created_at, quantity, unit_price, lower(trim(status)) AS status
FROM landed
QUALIFY row_number() OVER (PARTITION BY trim(order_id) ORDER BY filename DESC) = 1;

CREATE OR REPLACE TABLE gold.gold_daily_sales AS
SELECT
    cast(created_at AS date) AS order_date,
    cast(count(*) AS bigint) AS orders,
    cast(sum(quantity) AS bigint) AS units,
    cast(round(sum(quantity * unit_price), 2) AS decimal(18, 2)) AS revenue
FROM orders
WHERE status <> 'cancelled'
GROUP BY 1;

CREATE OR REPLACE TABLE gold.gold_daily_avg_rating AS
WITH landed AS (
    SELECT review_id, created_at, product_id, rating, filename
    FROM read_json('{landing}/ecommerce/reviews/*/*.json', format = 'newline_delimited', filename = true,
        columns = {'review_id': 'VARCHAR', 'created_at': 'TIMESTAMP', 'product_id': 'VARCHAR',
                   'user_id': 'VARCHAR', 'rating': 'INTEGER', 'review_text': 'VARCHAR'})
    UNION ALL
    SELECT review_id, created_at, product_id, rating, filename
    FROM read_csv('{landing}/ecommerce/reviews/*/*.csv', header = true, auto_detect = false, filename = true,
        columns = {'review_id': 'VARCHAR', 'created_at': 'TIMESTAMP', 'product_id': 'VARCHAR',
                   'user_id': 'VARCHAR', 'rating': 'INTEGER', 'review_text': 'VARCHAR'})
),
reviews AS (
    SELECT trim(review_id) AS review_id, created_at, trim(product_id) AS product_id, rating
    FROM landed
    QUALIFY row_number() OVER (PARTITION BY trim(review_id) ORDER BY filename DESC) = 1
)
SELECT
    cast(created_at AS date) AS review_date,
    product_id,
    cast(round(cast(avg(cast(rating AS decimal(28, 10))) AS decimal(28, 10)), 2) AS decimal(18, 2)) AS avg_rating,
    cast(count(*) AS bigint) AS review_count
FROM reviews
GROUP BY 1, 2;

CREATE OR REPLACE TABLE gold.product_categories AS
WITH landed AS (
    SELECT product_id, category, price, updated_at, filename
    FROM read_json('{landing}/ecommerce/products/*/*.json', format = 'newline_delimited', filename = true,
        columns = {'product_id': 'VARCHAR', 'product_name': 'VARCHAR', 'category': 'VARCHAR',
                   'price': 'DECIMAL(12,2)', 'updated_at': 'TIMESTAMP'})
),
products AS (
    SELECT trim(category) AS category, price
    FROM landed
    QUALIFY row_number() OVER (
        PARTITION BY trim(product_id) ORDER BY updated_at DESC NULLS LAST, filename DESC) = 1
)
SELECT
    category,
    cast(count(*) AS bigint) AS product_count,
    cast(round(min(price), 2) AS decimal(18, 2)) AS min_price,
    cast(round(max(price), 2) AS decimal(18, 2)) AS max_price,
    cast(round(cast(avg(cast(price AS decimal(28, 10))) AS decimal(28, 10)), 2) AS decimal(18, 2)) AS avg_price
FROM products
GROUP BY 1;
