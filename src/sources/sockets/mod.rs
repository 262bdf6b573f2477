//! The sockets source: TCP sockets (IPv4 and IPv6) via netlink sock_diag, with a /proc/net/tcp
//! fallback, grouped into what an on-call engineer needs.
