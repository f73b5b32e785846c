/**
 * Sockets in other network namespaces for one Node process. Node cannot `setns`, and a Node process
 * per pod costs ~50 MB and ~50 ms of CPU (300 pods: 16 s, 15 GB), so a tiny Perl program (perl-base
 * is in every Debian) enters each namespace with setns(2), opens the sockets there, comes back, and
 * execs the Node agent, which inherits them as file descriptors (`KWIRE_FDS`).
 */

/** One socket to open in a namespace. */
export interface SocketSpec {
  readonly netns: string;
  readonly protocol: 'tcp' | 'udp';
  /** Port to bind on 0.0.0.0; 0 leaves the socket unbound (a client socket). */
  readonly port: number;
  readonly listen: boolean;
  /** Address to bind. @default 0.0.0.0 */
  readonly address?: string;
}

/** The environment variable carrying the inherited descriptors, in spec order, comma-separated. */
export const FDS_ENV = 'KWIRE_FDS';

const SCRIPT = String.raw`
use strict; use warnings; use Socket; use POSIX (); use Fcntl;
my %nr = (x86_64 => 308, aarch64 => 268, armv7l => 375, i686 => 346, ppc64le => 350, s390x => 339, riscv64 => 268);
my $sys = $nr{(POSIX::uname())[4]} // die "kwire binder: no setns syscall number for this architecture\n";
open(my $home, '<', '/proc/self/ns/net') or die "kwire binder: /proc/self/ns/net: $!\n";
my (@keep, @fds, %open);
while (@ARGV && $ARGV[0] ne '--') {
  my ($ns, $proto, $port, $listen, $addr) = split /,/, shift @ARGV;
  unless ($open{$ns}) { open($open{$ns}, '<', "/run/netns/$ns") or die "kwire binder: netns $ns: $!\n"; }
  syscall($sys, fileno($open{$ns}), 0x40000000) == 0 or die "kwire binder: setns $ns: $!\n";
  socket(my $s, PF_INET, $proto eq 'tcp' ? SOCK_STREAM : SOCK_DGRAM, 0) or die "kwire binder: socket: $!\n";
  setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1);
  if ($port > 0 || $addr) { bind($s, pack_sockaddr_in($port, $addr ? inet_aton($addr) : INADDR_ANY)) or die "kwire binder: bind $ns $proto/$port: $!\n"; }
  if ($listen) { listen($s, 4096) or die "kwire binder: listen $ns $proto/$port: $!\n"; }
  fcntl($s, F_SETFD, 0);
  push @keep, $s; push @fds, fileno($s);
}
shift @ARGV;
syscall($sys, fileno($home), 0x40000000) == 0 or die "kwire binder: setns back: $!\n";
close($_) for values %open;
$ENV{${FDS_ENV}} = join(',', @fds);
exec { $ARGV[0] } @ARGV or die "kwire binder: exec $ARGV[0]: $!\n";
`;

/** The argv that opens the sockets, then execs `command` with them (run it under `ip netns exec HOME`). */
export function binderArgv(specs: readonly SocketSpec[], command: readonly string[]): string[] {
  return ['perl', '-e', SCRIPT, ...specs.map((s) => `${s.netns},${s.protocol},${String(s.port)},${s.listen ? 1 : 0},${s.address ?? ''}`), '--', ...command];
}

/** The inherited descriptors, in spec order. */
export function inheritedFds(env: NodeJS.ProcessEnv): number[] {
  const text = env[FDS_ENV] ?? '';
  return text === '' ? [] : text.split(',').map(Number);
}
