-- Sample data for the shop dataset (configs/quickstart/dataset.hcl).
--
-- Portable on purpose: it loads unchanged into SQLite, PostgreSQL and
-- MySQL/MariaDB. Plain types only (INTEGER, VARCHAR, NUMERIC, BOOLEAN),
-- timestamps kept as ISO-8601 strings, no foreign-key constraints (the
-- relations are declared in the dataset), statements end with ';'.
--
--   sqlite3 data/quickstart/shop.db < configs/quickstart/sample-data.sql
--   psql "$LETHE_PG_DSN" -f configs/quickstart/sample-data.sql
--   mysql --database=shop < configs/quickstart/sample-data.sql
--
-- The data subject of the examples is jane@example.com (customer 1 and
-- employee 3): she has rows in every table. Everyone else is there so that
-- a request touching the wrong rows shows: Jane Doe <jane.doe@example.org>
-- is another person with the same name, Bob copied Jane on his ticket, and
-- Jane shares no address, card or login with anyone. Carol (employee 1)
-- is the support agent assigned to Jane's ticket 1 and Alice's ticket 3:
-- those tickets are not hers (dataset.hcl declares the assignee reference
-- shared), so her requests must not return or change them.

DROP TABLE IF EXISTS order_items;
DROP TABLE IF EXISTS orders;
DROP TABLE IF EXISTS payment_cards;
DROP TABLE IF EXISTS logins;
DROP TABLE IF EXISTS support_tickets;
DROP TABLE IF EXISTS reports;
DROP TABLE IF EXISTS visits;
DROP TABLE IF EXISTS products;
DROP TABLE IF EXISTS employees;
DROP TABLE IF EXISTS customers;
DROP TABLE IF EXISTS addresses;

CREATE TABLE addresses (
  id          INTEGER NOT NULL PRIMARY KEY,
  street      VARCHAR(100),
  city        VARCHAR(60),
  state       VARCHAR(60),
  postal_code VARCHAR(20),
  country     VARCHAR(60)
);

CREATE TABLE customers (
  id         INTEGER NOT NULL PRIMARY KEY,
  email      VARCHAR(255),
  name       VARCHAR(40),
  phone      VARCHAR(40),
  address_id INTEGER,
  created_at VARCHAR(32)
);

CREATE TABLE employees (
  id         INTEGER NOT NULL PRIMARY KEY,
  email      VARCHAR(255),
  name       VARCHAR(40),
  job_title  VARCHAR(60),
  address_id INTEGER
);

CREATE TABLE products (
  id    INTEGER NOT NULL PRIMARY KEY,
  name  VARCHAR(100),
  price NUMERIC(10, 2)
);

CREATE TABLE orders (
  id                  INTEGER NOT NULL PRIMARY KEY,
  customer_id         INTEGER,
  shipping_address_id INTEGER,
  placed_at           VARCHAR(32),
  status              VARCHAR(20),
  total               NUMERIC(10, 2)
);

CREATE TABLE order_items (
  id         INTEGER NOT NULL PRIMARY KEY,
  order_id   INTEGER,
  product_id INTEGER,
  quantity   INTEGER,
  unit_price NUMERIC(10, 2)
);

CREATE TABLE payment_cards (
  id                 INTEGER NOT NULL PRIMARY KEY,
  customer_id        INTEGER,
  billing_address_id INTEGER,
  card_holder        VARCHAR(40),
  ccn                VARCHAR(255),
  expiry             VARCHAR(255),
  preferred          BOOLEAN
);

CREATE TABLE logins (
  id           INTEGER NOT NULL PRIMARY KEY,
  customer_id  INTEGER,
  logged_in_at VARCHAR(32),
  ip_address   VARCHAR(255)
);

CREATE TABLE support_tickets (
  id              INTEGER NOT NULL PRIMARY KEY,
  requester_email VARCHAR(255),
  cc_email        VARCHAR(255),
  subject         VARCHAR(200),
  body            VARCHAR(2000),
  assignee_id     INTEGER,
  opened_at       VARCHAR(32)
);

CREATE TABLE visits (
  id         INTEGER NOT NULL PRIMARY KEY,
  email      VARCHAR(255),
  page       VARCHAR(200),
  visited_at VARCHAR(32),
  ip_address VARCHAR(255)
);

CREATE TABLE reports (
  id           INTEGER NOT NULL PRIMARY KEY,
  email        VARCHAR(255),
  month        INTEGER,
  year         INTEGER,
  total_visits INTEGER
);

INSERT INTO addresses (id, street, city, state, postal_code, country) VALUES
  (1, '12 Elm Street', 'Springfield', 'IL', '62701', 'US'),
  (2, '400 Oak Avenue', 'Portland', 'OR', '97201', 'US'),
  (3, '7 Rue des Lilas', 'Lyon', 'Auvergne-Rhone-Alpes', '69003', 'FR'),
  (4, '88 Pine Road', 'Austin', 'TX', '73301', 'US'),
  (5, '3 Harbour Lane', 'Bristol', 'England', 'BS1 4DJ', 'GB'),
  (6, '250 Market Street', 'San Francisco', 'CA', '94105', 'US'),
  (7, '1 Innovation Way', 'Springfield', 'IL', '62702', 'US');

-- Customer 4 is another Jane Doe, with another e-mail address.
INSERT INTO customers (id, email, name, phone, address_id, created_at) VALUES
  (1, 'jane@example.com', 'Jane Doe', '+1-555-0100', 1, '2023-01-15T09:30:00Z'),
  (2, 'bob@example.com', 'Bob Smith', '+1-555-0101', 2, '2023-02-03T14:12:00Z'),
  (3, 'alice@example.com', 'Alice Martin', '+33-555-0102', 3, '2023-03-21T08:45:00Z'),
  (4, 'jane.doe@example.org', 'Jane Doe', '+1-555-0103', 4, '2023-04-09T19:05:00Z');

-- Jane also works part-time in the shop (employee 3), at her home address.
INSERT INTO employees (id, email, name, job_title, address_id) VALUES
  (1, 'carol@example.com', 'Carol White', 'Support agent', 5),
  (2, 'dave@example.com', 'Dave Brown', 'Support lead', 6),
  (3, 'jane@example.com', 'Jane Doe', 'Weekend packer', 1);

INSERT INTO products (id, name, price) VALUES
  (1, 'Teapot', 24.50),
  (2, 'Green tea, 100 g', 8.90),
  (3, 'Tea cups, set of 4', 19.00),
  (4, 'Kettle', 45.00);

-- Jane has three orders; her second one went to her office (address 7).
INSERT INTO orders (id, customer_id, shipping_address_id, placed_at, status, total) VALUES
  (1, 1, 1, '2024-01-10T10:00:00Z', 'delivered', 42.30),
  (2, 1, 7, '2024-02-14T16:20:00Z', 'delivered', 45.00),
  (3, 1, 1, '2024-03-02T11:45:00Z', 'shipped', 36.80),
  (4, 2, 2, '2024-01-22T09:10:00Z', 'delivered', 19.00),
  (5, 3, 3, '2024-02-05T13:30:00Z', 'cancelled', 33.40),
  (6, 4, 4, '2024-03-18T18:00:00Z', 'delivered', 24.50);

INSERT INTO order_items (id, order_id, product_id, quantity, unit_price) VALUES
  (1, 1, 1, 1, 24.50),
  (2, 1, 2, 2, 8.90),
  (3, 2, 4, 1, 45.00),
  (4, 3, 3, 1, 19.00),
  (5, 3, 2, 2, 8.90),
  (6, 4, 3, 1, 19.00),
  (7, 5, 1, 1, 24.50),
  (8, 5, 2, 1, 8.90),
  (9, 6, 1, 1, 24.50);

-- Card numbers are the networks' published test numbers.
INSERT INTO payment_cards (id, customer_id, billing_address_id, card_holder, ccn, expiry, preferred) VALUES
  (1, 1, 1, 'Jane Doe', '4111111111111111', '2027-09', TRUE),
  (2, 1, 1, 'Jane Doe', '5555555555554444', '2026-01', FALSE),
  (3, 2, 2, 'Bob Smith', '4012888888881881', '2028-03', TRUE),
  (4, 3, 3, 'Alice Martin', '378282246310005', '2026-11', TRUE),
  (5, 4, 4, 'Jane Doe', '6011111111111117', '2027-05', TRUE);

INSERT INTO logins (id, customer_id, logged_in_at, ip_address) VALUES
  (1, 1, '2024-01-10T09:55:00Z', '198.51.100.7'),
  (2, 1, '2024-02-14T16:02:00Z', '198.51.100.7'),
  (3, 1, '2024-03-02T11:40:00Z', '203.0.113.24'),
  (4, 2, '2024-01-22T09:01:00Z', '192.0.2.15'),
  (5, 2, '2024-03-01T20:30:00Z', '192.0.2.15'),
  (6, 3, '2024-02-05T13:25:00Z', '203.0.113.99'),
  (7, 4, '2024-03-18T17:55:00Z', '198.51.100.250');

-- Jane opened ticket 1 and was copied on ticket 2, which is Bob's and
-- names both of them.
INSERT INTO support_tickets (id, requester_email, cc_email, subject, body, assignee_id, opened_at) VALUES
  (1, 'jane@example.com', NULL, 'Order 3 not arrived', 'Hello, my order 3 has not arrived yet. Jane', 1, '2024-03-09T08:00:00Z'),
  (2, 'bob@example.com', 'jane@example.com', 'Gift for Jane', 'Please wrap the cups as a gift for Jane.', 2, '2024-01-20T12:00:00Z'),
  (3, 'alice@example.com', 'bob@example.com', 'Cancel order 5', 'Please cancel my order 5.', 1, '2024-02-05T14:00:00Z'),
  (4, 'jane.doe@example.org', NULL, 'Invoice', 'Could I get an invoice for order 6?', 2, '2024-03-19T10:00:00Z');

INSERT INTO visits (id, email, page, visited_at, ip_address) VALUES
  (1, 'jane@example.com', '/products/teapot', '2024-01-10T09:57:00Z', '198.51.100.7'),
  (2, 'jane@example.com', '/products/kettle', '2024-02-14T16:05:00Z', '198.51.100.7'),
  (3, 'bob@example.com', '/products/cups', '2024-01-22T09:03:00Z', '192.0.2.15'),
  (4, 'alice@example.com', '/orders/5', '2024-02-05T13:27:00Z', '203.0.113.99'),
  (5, 'jane.doe@example.org', '/products/teapot', '2024-03-18T17:56:00Z', '198.51.100.250');

INSERT INTO reports (id, email, month, year, total_visits) VALUES
  (1, 'jane@example.com', 1, 2024, 1),
  (2, 'jane@example.com', 2, 2024, 1),
  (3, 'bob@example.com', 1, 2024, 1),
  (4, 'alice@example.com', 2, 2024, 1),
  (5, 'jane.doe@example.org', 3, 2024, 1);
