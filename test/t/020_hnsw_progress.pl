# 020_hnsw_progress.pl -- pg_stat_progress_create_index during hnsw builds.
#
# The access method names its build subphases (handler.cpp): 1 "initializing",
# 2 "loading tuples", 3 "writing index pages"; the view shows them as
# "building index: <name>". build.cpp reports tuples_done per row loaded and,
# while writing, tuples_total (the elements) and tuples_done per extent
# written; the heap scan reports blocks_total and blocks_done.
#
# A sampler session polls the view every millisecond (pg_stat_clear_snapshot
# before each read, else a transaction sees one snapshot of it) into a table
# while a second session builds; an advisory lock the sampler releases once
# it polls makes the build start after the sampler. The build (3000 vectors
# of 2000 dimensions, one page each) loads for about a second on this
# machine and writes 3000 pages; both phases must be seen, the loading one
# with tuples_done and blocks_done advancing and never beyond the rows and
# blocks, the writing one with tuples_total = 3000; no subphase may be
# unnamed. The write phase lasts tens of milliseconds, so a build whose
# samples miss it is repeated (at most 3 times). The same for CREATE INDEX
# CONCURRENTLY (which also waits and validates).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $rows = 3000;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\n");
$node->start;

$node->safe_psql('postgres', qq{
CREATE EXTENSION vector;
CREATE TABLE p (id int, v vector(2000));
INSERT INTO p SELECT i, array_fill(sin(i)::real, ARRAY[2000]) FROM generate_series(1, $rows) i;
CREATE TABLE samples (build int, n int, phase text, tuples_total bigint, tuples_done bigint,
	blocks_total bigint, blocks_done bigint);
-- Poll the progress of index builds on tab into samples (as build b) until a
-- build seen has ended; releases advisory lock 1 once polling. A procedure
-- that commits after every sample: CREATE INDEX CONCURRENTLY waits for the
-- snapshots older than its own, so one long transaction would stall it.
CREATE PROCEDURE sample_progress(b int, tab regclass, timeout float8, INOUT n int DEFAULT 0) LANGUAGE plpgsql AS \$\$
DECLARE
	t0 timestamptz := clock_timestamp();
	r record;
BEGIN
	PERFORM pg_advisory_unlock(1);
	LOOP
		PERFORM pg_stat_clear_snapshot();
		SELECT * INTO r FROM pg_stat_progress_create_index WHERE relid = tab;
		IF FOUND THEN
			n := n + 1;
			INSERT INTO samples VALUES (b, n, r.phase, r.tuples_total, r.tuples_done, r.blocks_total, r.blocks_done);
		ELSIF n > 0 THEN
			RETURN;
		END IF;
		COMMIT;
		EXIT WHEN clock_timestamp() - t0 > make_interval(secs => timeout);
		PERFORM pg_sleep(0.001);
	END LOOP;
END \$\$;});

is( $node->safe_psql('postgres', q{
SELECT string_agg(i || ': ' || coalesce(pg_indexam_progress_phasename(a.oid, i), '-'), ', ' ORDER BY i)
FROM pg_am a, generate_series(0, 4) i WHERE a.amname = 'hnsw'}),
	'0: -, 1: initializing, 2: loading tuples, 3: writing index pages, 4: -',
	'the access method names its build subphases');

my $heap_blocks = $node->safe_psql('postgres', q{SELECT pg_relation_size('p') / 8192});

# Build with $sql (index p_idx) while sampling; returns the build's number in samples.
my $build = 0;
sub sampled_build
{
	my ($sql) = @_;
	$build++;
	my $sampler = $node->background_psql('postgres');
	$sampler->query_safe('SELECT pg_advisory_lock(1)');
	my $builder = $node->background_psql('postgres');
	$builder->query_until(qr/waiting for the sampler/, qq{
\\echo waiting for the sampler
SELECT pg_advisory_lock(1), pg_advisory_unlock(1);
$sql;
});
	my $n = $sampler->query_safe("CALL sample_progress($build, 'p', 120)");
	$builder->query_safe('SELECT 1');    # the build has finished
	$builder->quit;
	$sampler->quit;
	note("build $build: $n samples");
	return $build;
}

# Per phase: samples, distinct tuples_done and blocks_done, whether
# tuples_done never decreased, and the largest values seen. (blocks_done is
# not monotonic: PostgreSQL's heap scan reports all blocks done while it
# reads its first block.)
sub phases
{
	my ($b) = @_;
	my %p;
	for my $line (split /\n/, $node->safe_psql('postgres', qq{
SELECT phase, count(*), count(DISTINCT tuples_done), count(DISTINCT blocks_done),
	bool_and(tuples_done >= prev_t), max(tuples_done), max(tuples_total), max(blocks_done), max(blocks_total)
FROM (SELECT *, lag(tuples_done, 1, 0::bigint) OVER (PARTITION BY phase ORDER BY n) AS prev_t
	FROM samples WHERE build = $b) s
GROUP BY phase}))
	{
		my ($phase, @v) = split /\|/, $line;
		@{ $p{$phase} }{qw(samples tuples blocks monotonic max_done max_total max_blocks_done max_blocks_total)} = @v;
	}
	for my $ph (sort keys %p)
	{
		note("build $b: $ph: " . join(', ', map { "$_ $p{$ph}{$_}" } sort keys %{ $p{$ph} }));
	}
	return \%p;
}

# Run the build until its write phase is sampled (at most 3 times) and check both phases.
sub check_build
{
	my ($label, $sql) = @_;
	my $p;
	for my $attempt (1 .. 3)
	{
		$node->safe_psql('postgres', 'DROP INDEX IF EXISTS p_idx');
		$p = phases(sampled_build($sql));
		last if $p->{'building index: writing index pages'};
		note("$label: attempt $attempt missed the write phase");
	}
	my $load = $p->{'building index: loading tuples'};
	my $write = $p->{'building index: writing index pages'};
	ok($load, "$label: the phase 'building index: loading tuples' is reported");
	ok($write, "$label: the phase 'building index: writing index pages' is reported");
	$load //= {};
	$write //= {};
	cmp_ok($load->{tuples} // 0, '>=', 3, "$label: loading tuples: tuples_done advances");
	cmp_ok($load->{blocks} // 0, '>=', 3, "$label: loading tuples: blocks_done advances");
	is($load->{monotonic}, 't', "$label: loading tuples: tuples_done never goes back");
	cmp_ok($load->{max_done} // 0, '<=', $rows, "$label: loading tuples: tuples_done stays within the $rows rows");
	is($load->{max_blocks_total}, $heap_blocks, "$label: loading tuples: blocks_total is the heap's $heap_blocks blocks");
	cmp_ok($load->{max_blocks_done} // 0, '<=', $heap_blocks, "$label: loading tuples: blocks_done stays within them");
	is($write->{max_total}, $rows, "$label: writing index pages: tuples_total is the $rows elements");
	cmp_ok($write->{max_done} // 0, '<=', $rows, "$label: writing index pages: tuples_done stays within them");
	is($write->{monotonic}, 't', "$label: writing index pages: tuples_done never goes back");
	is($node->safe_psql('postgres', q{SET enable_seqscan = off;
SELECT v <-> array_fill(sin(1234)::real, ARRAY[2000])::vector FROM p
ORDER BY v <-> array_fill(sin(1234)::real, ARRAY[2000])::vector LIMIT 1}),
		'0', "$label: the index finds a row's vector at distance 0");
	my @unnamed = grep { /^building index/ && !/^building index: (initializing|loading tuples|writing index pages)$/ }
	  keys %$p;
	is("@unnamed", '', "$label: every build subphase reported has a name");
	return $p;
}

check_build('CREATE INDEX', 'CREATE INDEX p_idx ON p USING hnsw (v vector_l2_ops)');
check_build('CREATE INDEX CONCURRENTLY', 'CREATE INDEX CONCURRENTLY p_idx ON p USING hnsw (v vector_l2_ops)');
is($node->safe_psql('postgres', q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'p_idx'::regclass}), 't',
	'CREATE INDEX CONCURRENTLY: the index is valid');

$node->stop;
done_testing();
