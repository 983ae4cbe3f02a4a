#!/usr/bin/perl
# make_bases.pl INSTALL_SCRIPT REWIND OUTDIR -- writes OUTDIR/vector--V.sql,
# an install script with the catalog of every earlier version V listed in
# REWIND (see rewind.sql). Test only: stage.sh installs them into the staged
# server for TAP 050; they are not shipped.
use strict;
use warnings;

my ($install, $rewind, $outdir) = @ARGV;
die "usage: make_bases.pl INSTALL REWIND OUTDIR\n" unless defined $outdir;

sub slurp
{
	my ($f) = @_;
	open my $fh, '<', $f or die "$f: $!\n";
	local $/;
	my $t = <$fh>;
	return $t;
}

my $base = slurp($install);
my $acc = $base;
my ($name, $text) = (undef, '');
my $ours = 0;

sub flush
{
	return unless defined $name;
	$acc .= "\n-- rewound to $name\n$text";
	open my $fh, '>', "$outdir/vector--$name.sql" or die "$outdir: $!\n";
	print $fh $acc;
	close $fh;
}

for my $line (split /\n/, slurp($rewind))
{
	if ($line =~ /^-- @@\s*$/)
	{
		flush();
		($name, $text, $acc) = (undef, '', $base);
		next;
	}
	if ($line =~ /^-- @ (\S+)\s*$/)
	{
		flush();
		($name, $text) = ($1, '');
		next;
	}
	$text .= "$line\n" if defined $name;
}
flush();
