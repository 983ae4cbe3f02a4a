#!/usr/bin/perl
# gen_upgrade.pl FROM TO INSTALL_SCRIPT PRE_SQL POST_SQL CONTROL > vector--FROM--TO.sql
#
# Writes the update script from any released version (pgvector's or our own)
# straight to the current one. Every start state is brought to the catalog of
# a fresh CREATE EXTENSION in one step, so the script does not have to know
# which version it starts from: it is the install script (sql/vector.sql)
# turned into statements that converge instead of statements that create.
#
#   CREATE FUNCTION         -> CREATE OR REPLACE FUNCTION: creates a missing
#                              function, and resets an existing one's
#                              volatility, strictness, parallel safety, cost
#                              and C symbol to today's (0.1.0's functions were
#                              not PARALLEL SAFE, for one)
#   CREATE TYPE x;          -> only when the type does not exist
#   CREATE TYPE x (...)     -> when the type is still a shell; otherwise
#                              ALTER TYPE x SET the receive/send/typmod/storage
#                              options (vector got recv/send in 0.1.1 and
#                              changed storage in 0.4.0 and 0.6.0)
#   CREATE CAST             -> when no cast with that function and context
#                              exists; one with another context is dropped first
#                              (array casts were IMPLICIT before 0.2.1)
#   CREATE OPERATOR         -> when the operator is missing or only a shell
#   CREATE AGGREGATE        -> when missing
#   CREATE ACCESS METHOD    -> when missing (our 0.8.1 had no ivfflat, pgvector
#                              has no diskann)
#   CREATE OPERATOR CLASS   -> when no class of that name exists for that method
#   COMMENT                 -> as is
#
# PRE_SQL and POST_SQL are hand-written pieces for what the above cannot see
# (a function whose parameter names changed, an operator property pgvector
# changed in place); see their comments. The extension's comment is set from
# the control file, since an update keeps the comment of the first install.
use strict;
use warnings;

my ($from, $to, $install, $pre, $post, $control) = @ARGV;
die "usage: gen_upgrade.pl FROM TO INSTALL PRE POST CONTROL\n" unless defined $control;

sub slurp
{
	my ($f) = @_;
	open my $fh, '<', $f or die "$f: $!\n";
	local $/;
	my $t = <$fh>;
	close $fh;
	return $t;
}

sub sqlstr
{
	my ($s) = @_;
	$s =~ s/'/''/g;
	return "'$s'";
}

# the extension's own schema (it is relocatable: no @extschema@)
my $extns = "(SELECT extnamespace FROM pg_catalog.pg_extension WHERE extname = 'vector')";

sub guarded
{
	my ($cond, $stmt) = @_;
	die "statement contains the quote tag: $stmt\n" if $stmt =~ /\$vx\$|\$do\$/;
	return "DO \$do\$\nBEGIN\n\tIF $cond THEN\n\t\tEXECUTE \$vx\$$stmt\$vx\$;\n\tEND IF;\nEND\n\$do\$;\n";
}

my %ctx = (IMPLICIT => 'i', ASSIGNMENT => 'a', '' => 'e');

sub convert
{
	my ($stmt) = @_;    # without the final ';'
	my $flat = $stmt;
	$flat =~ s/\s+/ /g;

	if ($stmt =~ /^CREATE FUNCTION\b/)
	{
		$stmt =~ s/^CREATE FUNCTION/CREATE OR REPLACE FUNCTION/;
		return "$stmt;\n";
	}
	if ($flat =~ /^CREATE TYPE (\w+)$/)
	{
		return guarded("NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type WHERE typname = '$1' AND typnamespace = $extns)",
			$stmt);
	}
	if ($flat =~ /^CREATE TYPE (\w+) \((.*)\)$/)
	{
		my ($name, $body) = ($1, $2);
		my @set;
		for my $kv (split /,/, $body)
		{
			my ($k, $v) = $kv =~ /^\s*(\w+)\s*=\s*(\w+)\s*$/ or die "type option: $kv\n";
			push @set, uc($k) . " = $v" if uc($k) =~ /^(RECEIVE|SEND|TYPMOD_IN|TYPMOD_OUT|ANALYZE|STORAGE)$/;
		}
		my $shell = "EXISTS (SELECT 1 FROM pg_catalog.pg_type WHERE typname = '$name' AND typnamespace = $extns"
		  . " AND NOT typisdefined)";
		return guarded($shell, $stmt)
		  . "ALTER TYPE $name SET (" . join(', ', @set) . ");\n";
	}
	if ($flat =~ /^CREATE CAST \((.+) AS (.+)\) WITH FUNCTION (.+?\)) ?(?:AS (IMPLICIT|ASSIGNMENT))?$/)
	{
		my ($src, $dst, $fn, $c) = ($1, $2, $3, $4 // '');
		my $same = "castsource = " . sqlstr($src) . "::pg_catalog.regtype AND casttarget = " . sqlstr($dst)
		  . "::pg_catalog.regtype";
		my $cond = "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_cast WHERE $same AND castfunc = " . sqlstr($fn)
		  . "::pg_catalog.regprocedure AND castcontext = '$ctx{$c}')";
		my $drop = "DO \$do\$\nBEGIN\n\tIF $cond AND EXISTS (SELECT 1 FROM pg_catalog.pg_cast WHERE $same) THEN\n"
		  . "\t\tDROP CAST ($src AS $dst);\n\tEND IF;\nEND\n\$do\$;\n";
		return $drop . guarded($cond, $stmt);
	}
	if ($flat =~ /^CREATE OPERATOR (\S+) \( LEFTARG = ([^,]+), RIGHTARG = ([^,]+),/)
	{
		my $sig = sqlstr("$1($2,$3)");
		return guarded("NOT EXISTS (SELECT 1 FROM pg_catalog.pg_operator WHERE oid = pg_catalog.to_regoperator($sig)"
			  . " AND oprcode <> 0)", $stmt);
	}
	if ($flat =~ /^CREATE AGGREGATE (\w+)\((.+?)\)/)
	{
		return guarded("pg_catalog.to_regprocedure(" . sqlstr("$1($2)") . ") IS NULL", $stmt);
	}
	if ($flat =~ /^CREATE ACCESS METHOD (\w+) /)
	{
		return guarded("NOT EXISTS (SELECT 1 FROM pg_catalog.pg_am WHERE amname = '$1')", $stmt);
	}
	if ($flat =~ /^CREATE OPERATOR CLASS (\w+) (?:DEFAULT )?FOR TYPE .+? USING (\w+) AS /)
	{
		return guarded("NOT EXISTS (SELECT 1 FROM pg_catalog.pg_opclass c JOIN pg_catalog.pg_am a ON a.oid = c.opcmethod"
			  . " WHERE c.opcname = '$1' AND a.amname = '$2' AND c.opcnamespace = $extns)", $stmt);
	}
	if ($stmt =~ /^COMMENT ON /)
	{
		return "$stmt;\n";
	}
	die "gen_upgrade.pl: no rule for statement: $flat\n";
}

my $out = "-- Generated by tools/gen_upgrade.pl from sql/vector.sql: do not edit.\n"
  . "-- complain if script is sourced in psql, rather than via CREATE EXTENSION\n"
  . "\\echo Use \"ALTER EXTENSION vector UPDATE TO '$to'\" to load this file. \\quit\n\n"
  . "-- Update from $from: brings any earlier catalog (every pgvector release, and\n"
  . "-- this extension's own earlier 0.8.1 installs) to a fresh install's.\n\n";

$out .= slurp($pre) . "\n";

my $body = slurp($install);
$body =~ s/^\\echo.*\n//m;
my $cur = '';
for my $line (split /\n/, $body)
{
	if ($cur eq '' && ($line =~ /^\s*--/ || $line =~ /^\s*$/))
	{
		$out .= "$line\n";
		next;
	}
	$cur .= ($cur eq '' ? '' : "\n") . $line;
	if ($line =~ /;\s*$/)
	{
		$cur =~ s/;\s*$//;
		$out .= convert($cur);
		$cur = '';
	}
}
die "gen_upgrade.pl: unterminated statement: $cur\n" if $cur ne '';

$out .= "\n" . slurp($post);

my ($comment) = slurp($control) =~ /^comment\s*=\s*'(.*)'\s*$/m or die "no comment in $control\n";
$out .= "\nCOMMENT ON EXTENSION vector IS " . sqlstr($comment) . ";\n";

print $out;
