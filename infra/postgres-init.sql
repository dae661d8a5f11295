-- A second database for the Prefect server next to the catalogue; pg_trgm as Prefect requires.
CREATE DATABASE prefect OWNER archive;
\c prefect
CREATE EXTENSION IF NOT EXISTS pg_trgm;
