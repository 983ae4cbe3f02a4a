# 055_c_headers.pl -- another extension's C code reads and builds our datums
# through the headers we install, as it would through pgvector's.
#
# pgvector installs vector.h, halfvec.h and sparsevec.h into
# $(includedir_server)/extension/vector/; C extensions include them (with
# -I$(includedir_server)/extension/vector) and call InitVector & co., which
# vector.so exports. This test checks that the staged installation has the
# three files at exactly that path, builds test/c_consumer (a PGXS C module,
# compiled with -Werror) with the *staged* pg_config, loads it into a server
# running the staged vector.so, and checks in SQL what its functions read
# (sum of a vector's elements, a halfvec's dimensions and raw half bits, a
# sparsevec's nnz, indices and values, the size macros and limits) and build
# (InitVector, InitHalfVector, InitSparseVector, vector_cmp_internal,
# PrintVector).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Copy;

# the staged pg_config comes first in PATH (tap.sh)
my ($bindir) = grep { -x "$_/pg_config" } split /:/, $ENV{PATH};
my $pg_config = "$bindir/pg_config";
my $incdir = `$pg_config --includedir-server`;
chomp $incdir;
like($incdir, qr{/usr/include/postgresql/15/server$}, "staged pg_config: $incdir");
for my $h (qw(vector.h halfvec.h sparsevec.h))
{
	ok(-f "$incdir/extension/vector/$h", "installed as include/server/extension/vector/$h");
}

# build the consumer module in this test's directory
my $src = "$ENV{VX_ROOT}/test/c_consumer";
my $build = "$ENV{TESTDIR}/c_consumer";
mkdir $build;
copy("$src/$_", "$build/$_") or die "copy $_: $!" for qw(Makefile vx_consumer.c);
my ($out, $err);
my $built = IPC::Run::run([ 'make', '-C', $build, "PG_CONFIG=$pg_config" ], '>', \$out, '2>', \$err);
ok($built, 'the C module compiles against the installed headers with -Werror') or diag("$out\n$err");
my $so = "$build/vx_consumer.so";

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\n");
$node->start;

# vector.so first: the module's references to InitVector etc. resolve there
my $pre = "LOAD 'vector';";
my %fn = (
	vxc_vector_sum => 'vector) RETURNS float8',
	vxc_vector_make => 'int) RETURNS vector',
	vxc_vector_cmp => 'vector, vector) RETURNS int',
	vxc_vector_print => 'vector) RETURNS void',
	vxc_halfvec_dims => 'halfvec) RETURNS int',
	vxc_halfvec_bits => 'halfvec, int) RETURNS int',
	vxc_halfvec_make => 'int) RETURNS halfvec',
	vxc_sparsevec_nnz => 'sparsevec) RETURNS int',
	vxc_sparsevec_sum => 'sparsevec) RETURNS float8',
	vxc_sparsevec_indices => 'sparsevec) RETURNS text',
	vxc_sparsevec_make => 'int, int) RETURNS sparsevec',
	vxc_constants => ') RETURNS text');
$node->safe_psql('postgres',
	"CREATE EXTENSION vector; $pre "
	  . join('', map { "CREATE FUNCTION $_($fn{$_} STRICT LANGUAGE C AS '$so';\n" } sort keys %fn));

# one query per check, in a fresh session each time
sub sel
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', "$pre SELECT $sql");
}

is(sel("vxc_vector_sum('[1,2,3.5]')"), '6.5', 'vector: sum of elements');
is(sel("vxc_vector_sum(array_fill(0.5::real, ARRAY[16000])::vector)"), '8000', 'vector: 16000 elements (toasted)');
is(sel("vxc_vector_make(4)::text"), '[1,2,3,4]', 'InitVector');
is(sel("vxc_vector_make(3) = '[1,2,3]'"), 't', 'InitVector result compares equal');
is(sel("vxc_vector_cmp('[1,2]', '[1,3]') || ' ' || vxc_vector_cmp('[1,2]', '[1,2]') || ' ' || vxc_vector_cmp('[1,2,0]', '[1,2]')"),
	'-1 0 1', 'vector_cmp_internal');
is(sel("vxc_halfvec_dims('[1,2,3,4,5]')"), '5', 'halfvec: dims');
is(sel("vxc_halfvec_bits('[1,-2,0.5]', 0) || ' ' || vxc_halfvec_bits('[1,-2,0.5]', 1) || ' ' || vxc_halfvec_bits('[1,-2,0.5]', 2)"),
	'15360 49152 14336', 'halfvec: raw IEEE half bits');
is(sel("vxc_halfvec_make(3)::text"), '[0,0,0]', 'InitHalfVector');
is(sel("vxc_sparsevec_nnz('{1:1.5,3:2,5:-1}/6')"), '3', 'sparsevec: nnz');
is(sel("vxc_sparsevec_nnz('{}/6')"), '0', 'sparsevec: nnz of an empty one');
is(sel("vxc_sparsevec_sum('{1:1.5,3:2,5:-1}/6')"), '2.5', 'sparsevec: SPARSEVEC_VALUES');
is(sel("vxc_sparsevec_indices('{1:1.5,3:2,5:-1}/6')"), '6: 0 2 4', 'sparsevec: 0-based indices');
is(sel("vxc_sparsevec_make(5, 2)::text"), '{1:1,2:2}/5', 'InitSparseVector');
is(sel("vxc_constants()"), '16000 16000 1000000000 16000 65504 20 14 40', 'limits and size macros');

my ($ret, $stdout, $stderr) = $node->psql('postgres', "$pre SELECT vxc_vector_print('[1,2.5]')");
is($ret, 0, 'PrintVector runs');
like($stderr, qr/INFO:  vxc = \[1,2\.5\]/, 'PrintVector logs the vector at INFO');

$node->stop;
done_testing();
