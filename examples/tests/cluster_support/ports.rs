//! Free cluster ports. A member's cluster port carries the transport over
//! TCP and gossip over UDP on the same number, so both must be free.

use std::net::{IpAddr, TcpListener, UdpSocket};
use std::sync::Mutex;

/// Ports handed out by this process, never handed out twice: a member
/// restarted at its address keeps its port, and no other member may take
/// it while it is down.
static HANDED_OUT: Mutex<Vec<(IpAddr, u16)>> = Mutex::new(Vec::new());

/// A port on `ip` on which both TCP and UDP are free now. The sockets that
/// found it are closed before it is returned, so another process could
/// take it before the member binds it: the system hands out ephemeral
/// ports in turn, which makes that unlikely, and the member would then
/// fail at start with its own error, not pass.
pub fn free_port(ip: IpAddr) -> u16 {
    let mut handed_out = HANDED_OUT
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    for _ in 0..1_000 {
        let tcp = TcpListener::bind((ip, 0))
            .unwrap_or_else(|error| panic!("binding TCP on {ip}: {error}"));
        let port = tcp.local_addr().expect("a bound address").port();
        if handed_out.contains(&(ip, port)) || UdpSocket::bind((ip, port)).is_err() {
            continue;
        }
        handed_out.push((ip, port));
        return port;
    }
    panic!("no port on {ip} is free for both TCP and UDP");
}
