# 050_upgrade_catalog.pl -- ALTER EXTENSION vector UPDATE from every earlier
# version ends at the catalog of a fresh CREATE EXTENSION.
#
# The staged server carries test-only install scripts of every earlier
# version (test/upgrade/rewind.sql, installed by stage.sh): each pgvector
# release from 0.1.0 to 0.8.5, and four states of our own earlier 0.8.1
# (first install without verify functions; vx_hnsw_verify with its old
# parameter name; diskann without the label opclass; with it; all without
# ivfflat). For each: create the extension at that version (our own states
# are then relabelled 0.8.1, the version they carried), check that every C
# function of that catalog resolves in our vector.so (fmgr_c_validator: the
# in-place binary swap and pg_upgrade both need the old catalog's symbols),
# keep a table of each type in use, run ALTER EXTENSION vector UPDATE, and
# compare test/upgrade/catalog.sql's lines (members, every dependency,
# function, operator, opclass/opfamily member, cast, aggregate, type, access
# method and comment properties) with a fresh install's. The rows must read
# back the same after the update. A hand-made difference (one function's
# cost) must be caught, so the comparison can fail.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{VX_ROOT} or die "VX_ROOT not set\n";
my $catalog_sql = slurp_file("$root/test/upgrade/catalog.sql");

my @pgvector = qw(0.1.0 0.1.1 0.1.2 0.1.3 0.1.4 0.1.5 0.1.6 0.1.7 0.1.8
  0.2.0 0.2.1 0.2.2 0.2.3 0.2.4 0.2.5 0.2.6 0.2.7 0.3.0 0.3.1 0.3.2
  0.4.0 0.4.1 0.4.2 0.4.3 0.4.4 0.5.0 0.5.1 0.6.0 0.6.1 0.6.2
  0.7.0 0.7.1 0.7.2 0.7.3 0.7.4 0.8.0 0.8.1 0.8.2 0.8.3 0.8.4 0.8.5);
my @ours = qw(ours-a ours-b ours-c ours-d);

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\n");
$node->start;

sub catalog
{
	my ($db) = @_;
	return [ split /\n/, $node->safe_psql($db, $catalog_sql) ];
}

sub vercmp
{
	my ($a, $b) = @_;
	my @a = split /\./, $a;
	my @b = split /\./, $b;
	return $a[0] <=> $b[0] || $a[1] <=> $b[1] || $a[2] <=> $b[2];
}

# the lines of $got missing from $want and the extra ones, for diagnostics
sub difference
{
	my ($want, $got) = @_;
	my %w = map { $_ => 1 } @$want;
	my %g = map { $_ => 1 } @$got;
	my @d = ((map { "- $_" } grep { !$g{$_} } @$want), (map { "+ $_" } grep { !$w{$_} } @$got));
	return join("\n", @d[0 .. ($#d < 30 ? $#d : 29)]);
}

# the number of C functions of each version's catalog (from pgvector's
# install and update scripts: 0.1.0 has 25, 0.1.1 adds recv/send, 0.1.7
# array_to_vector(numeric[]), 0.1.8 vector_to_float4, 0.4.0 the three avg
# functions, 0.5.0 l1_distance, vector_mul and hnswhandler, 0.7.0 halfvec,
# sparsevec, bit and the rest (75), 0.8.0 four array_to_sparsevec); our own
# states: pgvector 0.8's minus the 3 ivfflat ones, plus diskannhandler and
# the verify functions they had
sub c_function_count
{
	my ($v) = @_;
	my %ours = ('ours-a' => 111, 'ours-b' => 112, 'ours-c' => 114, 'ours-d' => 114);
	return $ours{$v} if exists $ours{$v};
	return 25 if vercmp($v, '0.1.1') < 0;
	return 27 if vercmp($v, '0.1.7') < 0;
	return 28 if vercmp($v, '0.1.8') < 0;
	return 29 if vercmp($v, '0.4.0') < 0;
	return 32 if vercmp($v, '0.5.0') < 0;
	return 35 if vercmp($v, '0.7.0') < 0;
	return 110 if vercmp($v, '0.8.0') < 0;
	return 114;
}

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION vector');
my $fresh = catalog('fresh');
is((grep { /^version / } @$fresh)[0], 'version 0.8.6', 'fresh install is 0.8.6');
cmp_ok(scalar(@$fresh), '>', 1000, 'fresh catalog listed (' . scalar(@$fresh) . ' lines)');

for my $v (@pgvector, @ours)
{
	my $db = "db_$v";
	$db =~ s/[.-]/_/g;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE EXTENSION vector VERSION '$v'");
	$node->safe_psql($db, "UPDATE pg_extension SET extversion = '0.8.1' WHERE extname = 'vector'")
	  if $v =~ /^ours/;

	# every C function of the old catalog loads from our library
	my $c_funcs = $node->safe_psql($db, q{
		WITH c AS MATERIALIZED (
			SELECT p.oid FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
				AND d.deptype = 'e' AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vector')
			WHERE p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c'))
		SELECT count(*) FROM c, LATERAL (SELECT fmgr_c_validator(c.oid)) v});
	is($c_funcs, c_function_count($v), "$v: its C functions resolve in vector.so");

	my $before = catalog($db);
	isnt(difference($fresh, $before), '', "$v: the base differs from a fresh install");

	# data kept across the update; an hnsw index where the version has hnsw
	my $has_half = $v =~ /^ours/ || vercmp($v, '0.7.0') >= 0;
	my $has_hnsw = $v =~ /^ours/ || vercmp($v, '0.5.0') >= 0;
	$node->safe_psql($db, q{
		CREATE TABLE t (id int, v vector(3));
		INSERT INTO t SELECT i, ('[' || i || ',' || i + 1 || ',' || -i || ']')::vector FROM generate_series(1, 50) i;
	});
	$node->safe_psql($db, 'CREATE INDEX ON t USING hnsw (v vector_l2_ops)') if $has_hnsw;
	$node->safe_psql($db, q{
		CREATE TABLE h (id int, h halfvec(2), s sparsevec(4));
		INSERT INTO h VALUES (1, '[1,2]', '{1:1,4:2}/4'), (2, '[3,4]', '{2:5}/4');
	}) if $has_half;

	$node->safe_psql($db, 'ALTER EXTENSION vector UPDATE');
	my $after = catalog($db);
	my $diff = difference($fresh, $after);
	is($diff, '', "$v: updated catalog equals a fresh install's");
	is(scalar(@$after), scalar(@$fresh), "$v: same number of catalog lines");

	is($node->safe_psql($db, q{SET enable_seqscan = off; SELECT id FROM t ORDER BY v <-> '[10,11,-10]' LIMIT 3}),
		"10\n9\n11", "$v: rows read back and searched after the update");
	is($node->safe_psql($db, q{SELECT string_agg(h::text || ' ' || s::text, ';' ORDER BY id) FROM h}),
		'[1,2] {1:1,4:2}/4;[3,4] {2:5}/4', "$v: halfvec and sparsevec rows kept") if $has_half;
	is($node->safe_psql($db, q{SELECT avg(v)::text, (SELECT '[1,2,3]'::vector - '[1,1,1]')::text FROM t}),
		'[25.5,26.5,-25.5]|[0,1,2]', "$v: functions work after the update");
}

# the extension in its own schema (it is relocatable): the update's guards
# look in the extension's schema, and objects land there
$node->safe_psql('postgres', 'CREATE DATABASE fresh_s');
$node->safe_psql('fresh_s', 'CREATE SCHEMA vx; CREATE EXTENSION vector SCHEMA vx');
my $fresh_s = catalog('fresh_s');
for my $v ('0.4.4', '0.7.4', 'ours-c')
{
	my $db = "s_$v";
	$db =~ s/[.-]/_/g;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE SCHEMA vx; CREATE EXTENSION vector VERSION '$v' SCHEMA vx");
	$node->safe_psql($db, "UPDATE pg_extension SET extversion = '0.8.1' WHERE extname = 'vector'") if $v =~ /^ours/;
	$node->safe_psql($db, 'ALTER EXTENSION vector UPDATE');
	is(difference($fresh_s, catalog($db)), '', "$v in schema vx: updated catalog equals a fresh install's");
}
is(scalar(grep { /vx\.vector/ } @$fresh_s) > 0, 1, 'schema-qualified names in the schema case');

# the comparison can fail: one property changed by hand is found
$node->safe_psql('db_0_8_5', 'ALTER FUNCTION vector_norm(vector) COST 2');
like(difference($fresh, catalog('db_0_8_5')), qr/vector_norm.*cost=1\b/s, 'a changed cost is caught');

$node->stop;
done_testing();
