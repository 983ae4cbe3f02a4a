# 021_hnsw_foreign_index.pl -- an hnsw index whose metapage this extension
# cannot read: refused with a REINDEX hint, and REINDEX repairs it.
#
# A database upgraded from pgvector keeps its hnsw indexes in pgvector's page
# format under the same access method; this extension's metapage check
# (pages.cpp, HnswCheckMetaPage) must refuse them rather than misread them.
# Four identical indexes are built, one per table; with the server stopped,
# each gets another metapage written into block 0 of its file:
#   pgvector: pgvector 0.8's metapage (magic 0xA953A953, version 1, the
#             dimensions, m, ef_construction, entry and insert pages) and its
#             page opaque (next block, page_id 0xFF90)
#   garbage:  our metapage with the magic 0x12345678
#   newer:    our metapage with format version 3 (this build writes 2)
#   zeroed:   an all-zero block 0 (a new page)
# After a restart, an index scan, an insert and a VACUUM on each table must
# fail with the expected SQLSTATE, message and hint (and not crash);
# vx_hnsw_verify must report the metapage; REINDEX INDEX must rebuild the
# index, after which the scan finds the right rows, inserts work and
# vx_hnsw_verify finds nothing. The fourth index and the others' tables are
# untouched by one another's damage.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Fcntl qw(SEEK_SET);
use VxHnsw;

my $BLCKSZ = 8192;
my $CONTENTS = 24;    # MAXALIGN(SizeOfPageHeaderData): PageGetContents
my @cases = qw(pgvector garbage newer zeroed);

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\n");
$node->start;
$node->safe_psql('postgres', hnsw_setup_sql());
for my $case (@cases)
{
	$node->safe_psql('postgres', qq{
CREATE TABLE t_$case (id bigint PRIMARY KEY, v vector(8));
INSERT INTO t_$case SELECT i, vx_cvec(i, 8, 10)::vector FROM generate_series(1, 500) i;
CREATE INDEX t_${case}_idx ON t_$case USING hnsw (v vector_l2_ops);
DELETE FROM t_$case WHERE id % 10 = 0;});
}
my %file = map {
	$_ => $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('t_$_\_idx')")
} @cases;

# The nearest row to row 7's vector through the index, and the plan's index.
sub nearest
{
	my ($case) = @_;
	return $node->psql('postgres', qq{SET enable_seqscan = off;
SELECT id FROM t_$case ORDER BY v <-> (SELECT vx_cvec(7, 8, 10)::vector) LIMIT 1});
}
for my $case (@cases)
{
	my ($ret, $out) = nearest($case);
	is($out, '7', "t_${case}_idx finds row 7 before the damage");
}
$node->stop;

# Write $bytes at offset $off of block 0 of the case's index file.
sub write_block0
{
	my ($case, $off, $bytes) = @_;
	open(my $fh, '+<:raw', $file{$case}) or die "open $file{$case}: $!";
	sysseek($fh, $off, SEEK_SET);
	syswrite($fh, $bytes) == length($bytes) or die "short write";
	close $fh;
}

# pgvector 0.8's HnswMetaPageData: magicNumber, version, dimensions (uint32),
# m, efConstruction (uint16), entryBlkno (uint32), entryOffno (uint16),
# entryLevel (int16), insertPage (uint32); HnswPageOpaqueData: nextblkno
# (uint32), unused, page_id (uint16).
write_block0('pgvector', $CONTENTS, pack('V V V v v V v s V', 0xA953A953, 1, 8, 16, 64, 1, 1, 2, 5) . "\0" x 40);
write_block0('pgvector', $BLCKSZ - 8, pack('V v v', 0xFFFFFFFF, 0, 0xFF90));
write_block0('garbage', $CONTENTS, pack('V', 0x12345678));
write_block0('newer', $CONTENTS + 4, pack('V', 3));
write_block0('zeroed', 0, "\0" x $BLCKSZ);
$node->start;

my %expect = (
	pgvector => qr/ERROR:  0A000: index "t_pgvector_idx" was built by pgvector and cannot be read by this extension\n(?:.*\n)*?HINT:  REINDEX the index to rebuild it in this extension's format\./,
	garbage => qr/ERROR:  XX002: index "t_garbage_idx" is not a valid hnsw index\nDETAIL:  Magic number 12345678, expected 56584E48\.\nHINT:  REINDEX the index\./,
	newer => qr/ERROR:  0A000: index "t_newer_idx" has hnsw format version 3, this extension reads version 2\n(?:.*\n)*?HINT:  REINDEX the index to rebuild it in this extension's format\./,
	zeroed => qr/ERROR:  XX002: index "t_zeroed_idx" has an uninitialized metapage\n(?:.*\n)*?HINT:  REINDEX the index\./,
);
my %verify = (
	pgvector => qr/^metapage: magic A953A953, expected 56584E48 \(built by pgvector\)$/,
	garbage => qr/^metapage: magic 12345678, expected 56584E48$/,
	newer => qr/^metapage: .*version 3/,
	zeroed => qr/^metapage: /,
);
for my $case (@cases)
{
	for my $op ([ 'scan', "SET enable_seqscan = off; SELECT id FROM t_$case ORDER BY v <-> (SELECT vx_cvec(7, 8, 10)::vector) LIMIT 1" ],
		[ 'insert', "INSERT INTO t_$case VALUES (1001, vx_cvec(1001, 8, 10)::vector)" ],
		[ 'VACUUM', "VACUUM t_$case" ])
	{
		my ($what, $sql) = @$op;
		my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
		isnt($ret, 0, "t_${case}_idx: the $what fails");
		like($err, $expect{$case}, "t_${case}_idx: the $what is refused with the SQLSTATE, message and hint");
	}
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT * FROM vx_hnsw_verify('t_${case}_idx')");
	is($ret, 0, "t_${case}_idx: vx_hnsw_verify runs");
	like($out, $verify{$case}, "t_${case}_idx: vx_hnsw_verify reports the metapage");
	note("vx_hnsw_verify('t_${case}_idx'): $out");
}
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');
unlike(slurp_file($node->logfile), qr/server process .* was terminated/, 'no backend crashed');

# REINDEX repairs each index.
for my $case (@cases)
{
	$node->safe_psql('postgres', "REINDEX INDEX t_${case}_idx");
	my ($ret, $out) = nearest($case);
	is($out, '7', "t_${case}_idx after REINDEX: the scan finds row 7");
	$node->safe_psql('postgres', "INSERT INTO t_$case VALUES (1001, vx_cvec(1001, 8, 10)::vector); VACUUM t_$case;");
	is($node->safe_psql('postgres', qq{SET enable_seqscan = off;
SELECT id FROM t_$case ORDER BY v <-> (SELECT vx_cvec(1001, 8, 10)::vector) LIMIT 1}),
		'1001', "t_${case}_idx after REINDEX: an inserted row is found");
	is($node->safe_psql('postgres', "SELECT * FROM vx_hnsw_verify('t_${case}_idx')"), '',
		"t_${case}_idx after REINDEX: vx_hnsw_verify finds no problem");
	is($node->safe_psql('postgres', "SELECT reltuples::bigint FROM pg_class WHERE relname = 't_${case}_idx'"),
		451, "t_${case}_idx after REINDEX: 450 rows and the new one are indexed");
}

$node->stop;
done_testing();
