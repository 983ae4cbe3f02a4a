# 052_migration_dump.pl -- a pgvector database moved by dump and restore.
#
# The dump below is written by hand the way pg_dump writes a pgvector 0.8
# database (plain format, schema-qualified names, OPERATOR(public.<->) in
# function and view bodies, COPY data in the types' text format, generated
# columns left out of COPY, indexes and constraints after the data). It
# holds every kind of object a pgvector user has: the three vector types
# and bit, hnsw and ivfflat indexes of every family, a view, a materialized
# view, a generated column, SQL and plpgsql functions over the operators, a
# domain, an aggregate query in a view and a typmod array column. It must
# restore with ON_ERROR_STOP, every index must be used and answer as the
# exact scan, and pg_dump of the restored database must restore again into
# a third database with the same contents.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\n");
$node->start;

# 60 rows: id, embedding, half, sparse, bits (deterministic values)
my @rows;
for my $i (1 .. 60)
{
	my @v = map { sprintf('%.3f', sin($i * 0.7 + $_ * 1.3) * 2) } 1 .. 4;
	my $sparse = sprintf('{%d:%.2f,%d:%.2f}/8', 1 + $i % 8, cos($i) + 3, 1 + ($i * 3 + 1) % 8, sin($i) + 2);
	$sparse = sprintf('{%d:%.2f}/8', 1 + $i % 8, cos($i) + 3) if (1 + $i % 8) == (1 + ($i * 3 + 1) % 8);
	my $bits = join('', map { (($i * 7 + $_ * 5) % 3) ? '1' : '0' } 1 .. 16);
	push @rows, join("\t", $i, '[' . join(',', @v) . ']', '[' . join(',', @v) . ']', $sparse, $bits, "{$i}");
}
my $copy = join("\n", @rows);

my $dump = <<"EOF";
--
-- PostgreSQL database dump (written by hand in pg_dump's plain format, pgvector 0.8.1)
--
SET statement_timeout = 0;
SET lock_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET client_min_messages = warning;

CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;
COMMENT ON EXTENSION vector IS 'vector data type and ivfflat and hnsw access methods';

CREATE DOMAIN public.embedding4 AS public.vector(4);

CREATE FUNCTION public.nearest(q public.vector, k integer) RETURNS SETOF bigint
    LANGUAGE sql STABLE
    AS \$\$ SELECT id FROM public.items ORDER BY embedding OPERATOR(public.<->) q LIMIT k \$\$;

CREATE FUNCTION public.closeness(a public.vector, b public.vector) RETURNS double precision
    LANGUAGE plpgsql IMMUTABLE
    AS \$\$ BEGIN RETURN 1 - (a OPERATOR(public.<=>) b); END \$\$;

SET default_tablespace = '';
SET default_table_access_method = heap;

CREATE TABLE public.items (
    id bigint NOT NULL,
    embedding public.vector(4),
    half public.halfvec(4),
    sparse public.sparsevec(8),
    bits bit(16),
    tags integer[],
    norm double precision GENERATED ALWAYS AS (public.vector_norm(embedding)) STORED,
    e4 public.embedding4
);

CREATE VIEW public.item_stats AS
 SELECT count(*) AS n,
    public.avg(items.embedding) AS centroid,
    public.sum(items.half) AS half_sum
   FROM public.items;

CREATE VIEW public.near_origin AS
 SELECT items.id,
    (items.embedding OPERATOR(public.<->) '[0,0,0,0]'::public.vector) AS d
   FROM public.items
  WHERE ((items.embedding OPERATOR(public.<#>) '[1,1,1,1]'::public.vector) < (0)::double precision);

CREATE MATERIALIZED VIEW public.half_norms AS
 SELECT items.id,
    public.l2_norm(items.half) AS n,
    public.binary_quantize(items.embedding) AS q
   FROM public.items
  WITH NO DATA;

COPY public.items (id, embedding, half, sparse, bits, tags) FROM stdin;
$copy
\\.

UPDATE public.items SET e4 = embedding;

ALTER TABLE ONLY public.items
    ADD CONSTRAINT items_pkey PRIMARY KEY (id);

CREATE INDEX items_embedding_idx ON public.items USING hnsw (embedding public.vector_l2_ops) WITH (m='8', ef_construction='32');
CREATE INDEX items_embedding_idx1 ON public.items USING ivfflat (embedding public.vector_cosine_ops) WITH (lists='2');
CREATE INDEX items_embedding_idx2 ON public.items USING hnsw (embedding public.vector_ip_ops);
CREATE INDEX items_embedding_idx3 ON public.items USING hnsw (embedding public.vector_l1_ops);
CREATE INDEX items_half_idx ON public.items USING hnsw (half public.halfvec_cosine_ops);
CREATE INDEX items_half_idx1 ON public.items USING ivfflat (half public.halfvec_l2_ops) WITH (lists='3');
CREATE INDEX items_sparse_idx ON public.items USING hnsw (sparse public.sparsevec_l2_ops);
CREATE INDEX items_bits_idx ON public.items USING hnsw (bits public.bit_hamming_ops);
CREATE INDEX items_bits_idx1 ON public.items USING hnsw (bits public.bit_jaccard_ops);
CREATE INDEX items_bits_idx2 ON public.items USING ivfflat (bits public.bit_hamming_ops) WITH (lists='2');
CREATE INDEX items_expr_idx ON public.items USING hnsw (((public.subvector(embedding, 1, 2))::public.vector(2)) public.vector_l2_ops);

REFRESH MATERIALIZED VIEW public.half_norms;
EOF

my $file = $node->basedir . '/pgvector_dump.sql';
open(my $fh, '>', $file) or die "cannot write $file: $!";
print $fh $dump;
close $fh;

$node->safe_psql('postgres', 'CREATE DATABASE restored');
my ($ret, $out, $err) = $node->psql('restored', undef, extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', $file ]);
is($ret, 0, 'the pgvector-format dump restores with ON_ERROR_STOP');
is($err, '', 'no error or warning while restoring');
is($node->safe_psql('restored', q{SELECT extversion FROM pg_extension WHERE extname = 'vector'}),
	'0.8.6', 'the extension is at 0.8.6');

# every index answers its ORDER BY as the exact scan does, and is the plan's index scan
my @checks = (
	[ 'items_embedding_idx', 'embedding', '<->', q{'[0.5,-1,1,0.25]'} ],
	[ 'items_embedding_idx1', 'embedding', '<=>', q{'[0.5,-1,1,0.25]'} ],
	[ 'items_embedding_idx2', 'embedding', '<#>', q{'[0.5,-1,1,0.25]'} ],
	[ 'items_embedding_idx3', 'embedding', '<+>', q{'[0.5,-1,1,0.25]'} ],
	[ 'items_half_idx', 'half', '<=>', q{'[0.5,-1,1,0.25]'::halfvec} ],
	[ 'items_half_idx1', 'half', '<->', q{'[0.5,-1,1,0.25]'::halfvec} ],
	[ 'items_sparse_idx', 'sparse', '<->', q{'{1:1,4:2}/8'::sparsevec} ],
	[ 'items_bits_idx2?', 'bits', '<~>', q{'1010101010101010'::bit(16)} ],    # hnsw or ivfflat: both serve <~>
	[ 'items_bits_idx1', 'bits', '<%>', q{'1010101010101010'::bit(16)} ],
	[ 'items_expr_idx', 'subvector(embedding, 1, 2)::vector(2)', '<->', q{'[0.5,-1]'} ],
);
for my $c (@checks)
{
	my ($ix, $expr, $op, $q) = @$c;
	my $settings = "SET search_path = public; SET hnsw.ef_search = 100; SET ivfflat.probes = 3;";
	# distances, not ids: rows at equal distance may come in any order
	my $plan = $node->safe_psql('restored', "$settings SET enable_seqscan = off; EXPLAIN (COSTS OFF) "
		  . "SELECT id FROM items ORDER BY $expr $op $q LIMIT 5");
	like($plan, qr/Index Scan using $ix /, "$ix serves ORDER BY $expr $op");
	if ($ix =~ /bits_idx2\?/)
	{
		# the ivfflat one too, once the hnsw one is gone
		my $p2 = $node->safe_psql('restored', "$settings SET enable_seqscan = off; BEGIN; DROP INDEX items_bits_idx; "
			  . "EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY $expr $op $q LIMIT 5; ROLLBACK;");
		like($p2, qr/Index Scan using items_bits_idx2 /, "items_bits_idx2 (ivfflat) serves ORDER BY bits <~>");
	}
	my $approx = $node->safe_psql('restored', "$settings SET enable_seqscan = off; "
		  . "SELECT string_agg(round(d::numeric, 4)::text, ',' ORDER BY n) FROM (SELECT $expr $op $q AS d, "
		  . "row_number() OVER () AS n FROM (SELECT * FROM items ORDER BY $expr $op $q LIMIT 5) s) t");
	my $exact = $node->safe_psql('restored', "$settings SET enable_indexscan = off; SET enable_bitmapscan = off; "
		  . "SELECT string_agg(round(d::numeric, 4)::text, ',' ORDER BY n) FROM (SELECT $expr $op $q AS d, "
		  . "row_number() OVER () AS n FROM (SELECT * FROM items ORDER BY $expr $op $q LIMIT 5) s) t");
	is($approx, $exact, "$ix: the 5 nearest distances equal the exact scan's");
}

# the functions, views, generated column and domain work
is($node->safe_psql('restored', q{SELECT count(*) FROM public.nearest('[0,0,0,0]', 7)}), '7', 'SQL function over <->');
is( $node->safe_psql('restored', q{SELECT round(public.closeness('[1,0,0,0]', '[1,0,0,0]')::numeric, 6)}),
	'1.000000', 'plpgsql function over <=>');
is($node->safe_psql('restored', q{SELECT n FROM public.item_stats}), '60', 'view with vector aggregates');
is( $node->safe_psql('restored', q{SELECT count(*) FROM public.items WHERE abs(norm - vector_norm(embedding)) > 1e-9 OR e4 IS NULL}),
	'0', 'generated column and domain column hold their values');
is($node->safe_psql('restored', q{SELECT count(*) FROM public.half_norms}), '60', 'materialized view refreshed');
cmp_ok($node->safe_psql('restored', q{SELECT count(*) FROM public.near_origin}), '>', 0, 'view over <-> and <#>');

# the restored database dumps and restores again with the same contents
my $dump2 = $node->basedir . '/ours_dump.sql';
$node->command_ok([ 'pg_dump', '-d', $node->connstr('restored'), '-f', $dump2 ], 'pg_dump of the restored database');
$node->safe_psql('postgres', 'CREATE DATABASE again');
($ret, $out, $err) = $node->psql('again', undef, extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', $dump2 ]);
is($ret, 0, 'our own dump restores');
my $sum = q{SELECT md5(string_agg(id || embedding::text || half::text || sparse::text || bits::text || norm::text, ';' ORDER BY id)) FROM public.items};
is($node->safe_psql('again', $sum), $node->safe_psql('restored', $sum), 'same rows after the second restore');
is( $node->safe_psql('again', q{SELECT count(*) FROM pg_indexes WHERE tablename = 'items'}),
	$node->safe_psql('restored', q{SELECT count(*) FROM pg_indexes WHERE tablename = 'items'}),
	'same indexes after the second restore');

$node->stop;
done_testing();
