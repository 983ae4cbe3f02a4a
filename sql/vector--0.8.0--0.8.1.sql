-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "ALTER EXTENSION vector UPDATE TO '0.8.1'" to load this file. \quit

-- pgvector 0.8.0 and 0.8.1 have the same catalog surface: nothing to change.
-- A pgvector 0.8.0 database switches to this implementation by installing
-- these binaries and running ALTER EXTENSION vector UPDATE.
