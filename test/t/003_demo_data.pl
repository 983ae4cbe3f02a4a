# 003_demo_data.pl -- the demo data set loads and gives the known answers.
#
# Loads test/data/debian-demo.tsv.gz (3,000 Debian packages, 256-d vectors)
# with COPY, as test/demo does, and checks the demo's nearest-neighbour
# queries against results computed independently with numpy (float64) from
# the same file: cosine neighbours of postgresql-15, the same restricted to
# the python section, and L2 neighbours of nginx.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $file = "$ENV{VX_ROOT}/test/data/debian-demo.tsv.gz";
ok(-r $file, 'demo data file is readable');

my $node = PostgreSQL::Test::Cluster->new('demo');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\n");
$node->start;
$node->safe_psql('postgres', qq{
CREATE EXTENSION vector;
CREATE TABLE packages (id int PRIMARY KEY, package text NOT NULL UNIQUE, section text NOT NULL,
	description text, embedding vector(256) NOT NULL);
COPY packages FROM PROGRAM 'gzip -dc $file';
});

is($node->safe_psql('postgres', 'SELECT count(*), count(DISTINCT section), min(vector_dims(embedding)), max(vector_dims(embedding)) FROM packages'),
	'3000|55|256|256', 'all 3000 rows of 256 dimensions loaded');

my $pg15 = "(SELECT embedding FROM packages WHERE package = 'postgresql-15')";
is( $node->safe_psql('postgres', qq{
		SELECT package, round((embedding <=> $pg15)::numeric, 4) FROM packages
		WHERE package <> 'postgresql-15' ORDER BY embedding <=> $pg15 LIMIT 5}),
	"postgresql|0.2864\npostgresql-common|0.2911\npostgresql-doc|0.3136\nruby-sequel|0.3222\npostgresql-client-common|0.3269",
	'cosine neighbours of postgresql-15');
is( $node->safe_psql('postgres', qq{
		SELECT package, round((embedding <=> $pg15)::numeric, 4) FROM packages
		WHERE section = 'python' ORDER BY embedding <=> $pg15 LIMIT 2}),
	"python3-sqlalchemy|0.3730\npython3-storm|0.3948",
	'cosine neighbours of postgresql-15 in the python section');

my $nginx = "(SELECT embedding FROM packages WHERE package = 'nginx')";
is( $node->safe_psql('postgres', qq{
		SELECT package, round((embedding <-> $nginx)::numeric, 4) FROM packages
		ORDER BY embedding <-> $nginx LIMIT 4}),
	"nginx|0.0000\nnginx-doc|0.0967\nnginx-common|0.0990\nnginx-dev|0.1249",
	'L2 neighbours of nginx');

$node->stop;
done_testing();
