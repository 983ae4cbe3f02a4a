# 045_ivfflat_foreign_index.pl -- an ivfflat index whose metapage this
# extension cannot read: refused with a REINDEX hint, and REINDEX repairs it.
#
# A database upgraded from pgvector keeps its ivfflat indexes in pgvector's
# page format under the same access method; IvfflatCheckMetaPage
# (src/ivfflat/pages.cpp) must refuse them rather than misread them. Four
# identical indexes are built, one per table; with the server stopped, each
# gets another metapage written into block 0 of its file:
#   pgvector: pgvector's ivfflat metapage (magic 0x14FF1A7, version 1,
#             dimensions and lists as uint16) and its page opaque (next
#             block, page_id 0xFF84)
#   garbage:  our metapage with the magic 0x12345678
#   newer:    our metapage with format version 2 (this build writes 1)
#   zeroed:   an all-zero block 0 (a new page)
# After a restart, an index scan, an insert and a VACUUM on each table must
# fail with the expected SQLSTATE, message and hint (and not crash);
# vx_ivfflat_verify must report the metapage; REINDEX INDEX must rebuild the
# index, after which the scan finds the right rows, inserts work and
# vx_ivfflat_verify finds nothing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Fcntl qw(SEEK_SET);
use VxIvfflat;

my $BLCKSZ = 8192;
my $CONTENTS = 24;    # MAXALIGN(SizeOfPageHeaderData): PageGetContents
my @cases = qw(pgvector garbage newer zeroed);

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\n");
$node->start;
$node->safe_psql('postgres', ivfflat_setup_sql());
for my $case (@cases)
{
	$node->safe_psql('postgres', qq{
CREATE TABLE t_$case (id bigint PRIMARY KEY, v vector(8));
INSERT INTO t_$case SELECT i, vx_cvec(i, 8, 10)::vector FROM generate_series(1, 500) i;
CREATE INDEX t_${case}_idx ON t_$case USING ivfflat (v vector_l2_ops) WITH (lists = 10);
DELETE FROM t_$case WHERE id % 10 = 0;});
}
my %file = map {
	$_ => $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('t_$_\_idx')")
} @cases;

# The nearest row to row 7's vector through the index (all lists probed).
sub nearest
{
	my ($case) = @_;
	return $node->psql('postgres', qq{SET enable_seqscan = off; SET ivfflat.probes = 10;
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

# pgvector's IvfflatMetaPageData: magicNumber, version (uint32), dimensions,
# lists (uint16); IvfflatPageOpaqueData: nextblkno (uint32), unused, page_id (uint16).
write_block0('pgvector', $CONTENTS, pack('V V v v', 0x14FF1A7, 1, 8, 10) . "\0" x 16);
write_block0('pgvector', $BLCKSZ - 8, pack('V v v', 0xFFFFFFFF, 0, 0xFF84));
write_block0('garbage', $CONTENTS, pack('V', 0x12345678));
write_block0('newer', $CONTENTS + 4, pack('V', 2));
write_block0('zeroed', 0, "\0" x $BLCKSZ);
$node->start;

my %expect = (
	pgvector => qr/ERROR:  0A000: index "t_pgvector_idx" was built by pgvector and cannot be read by this extension\n(?:.*\n)*?HINT:  REINDEX the index to rebuild it in this extension's format\./,
	garbage => qr/ERROR:  XX002: index "t_garbage_idx" is not a valid ivfflat index\nDETAIL:  Magic number 12345678, expected 56584956\.\n(?:.*\n)*?HINT:  REINDEX the index\./,
	newer => qr/ERROR:  0A000: index "t_newer_idx" has ivfflat format version 2, this extension reads version 1\n(?:.*\n)*?HINT:  REINDEX the index to rebuild it in this extension's format\./,
	zeroed => qr/ERROR:  XX002: index "t_zeroed_idx" has an uninitialized metapage\n(?:.*\n)*?HINT:  REINDEX the index\./,
);
my %verify = (
	pgvector => qr/^metapage: magic 014FF1A7, expected 56584956 \(built by pgvector\)$/,
	garbage => qr/^metapage: magic 12345678, expected 56584956$/,
	newer => qr/^metapage: format version 2, expected 1$/,
	zeroed => qr/^metapage: uninitialized$/,
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
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT * FROM vx_ivfflat_verify('t_${case}_idx')");
	is($ret, 0, "t_${case}_idx: vx_ivfflat_verify runs");
	like($out, $verify{$case}, "t_${case}_idx: vx_ivfflat_verify reports the metapage");
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
	is($node->safe_psql('postgres', qq{SET enable_seqscan = off; SET ivfflat.probes = 10;
SELECT id FROM t_$case ORDER BY v <-> (SELECT vx_cvec(1001, 8, 10)::vector) LIMIT 1}),
		'1001', "t_${case}_idx after REINDEX: an inserted row is found");
	is($node->safe_psql('postgres', "SELECT * FROM vx_ivfflat_verify('t_${case}_idx')"), '',
		"t_${case}_idx after REINDEX: vx_ivfflat_verify finds no problem");
	is($node->safe_psql('postgres', "SELECT reltuples::bigint FROM pg_class WHERE relname = 't_${case}_idx'"),
		451, "t_${case}_idx after REINDEX: 450 rows and the new one are indexed");
}

$node->stop;
done_testing();
