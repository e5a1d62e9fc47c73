//! A TCP proxy for tests that cuts and stalls connections on purpose, and counts what it moves.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug)]
pub struct Proxy {
    pub addr: SocketAddr,
    target: Arc<Mutex<SocketAddr>>,
    faults: Arc<AtomicBool>,
    /// Bytes sent from the server side to the client side.
    pub down: Arc<AtomicU64>,
    /// Connections marked to be cut, and stalled, on purpose.
    pub cut: Arc<AtomicU64>,
    pub stalled: Arc<AtomicU64>,
    /// The line is cut: live connections dropped, new ones refused.
    severed: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
    /// Big transfers to cut: (bytes a connection may move towards the client, cuts left, the
    /// first connection it applies to).
    big: Arc<BigCut>,
    /// Connections accepted so far.
    accepted: Arc<AtomicU64>,
}

/// Big transfers to cut: (bytes a connection may move towards the client, cuts left, the first
/// connection it applies to).
type BigCut = (AtomicU64, AtomicU64, AtomicU64);

/// xorshift: the faults differ per connection but a run is repeatable.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

impl Proxy {
    pub fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = Proxy {
            addr: listener.local_addr().unwrap(),
            target: Arc::new(Mutex::new(target)),
            faults: Arc::new(AtomicBool::new(false)),
            down: Arc::new(AtomicU64::new(0)),
            cut: Arc::new(AtomicU64::new(0)),
            stalled: Arc::new(AtomicU64::new(0)),
            severed: Arc::new(AtomicBool::new(false)),
            live: Arc::default(),
            big: Arc::new((
                AtomicU64::new(u64::MAX),
                AtomicU64::new(0),
                AtomicU64::new(0),
            )),
            accepted: Arc::default(),
        };
        let (big, accepted) = (p.big.clone(), p.accepted.clone());
        let (severed, live) = (p.severed.clone(), p.live.clone());
        let (target, faults, down, cut, stalled) = (
            p.target.clone(),
            p.faults.clone(),
            p.down.clone(),
            p.cut.clone(),
            p.stalled.clone(),
        );
        std::thread::spawn(move || {
            let mut seed = 0x9E37_79B9_7F4A_7C15u64;
            for client in listener.incoming().flatten() {
                if severed.load(Ordering::Relaxed) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                if let Ok(c) = client.try_clone() {
                    live.lock().unwrap().push(c);
                }
                let serial = accepted.fetch_add(1, Ordering::SeqCst);
                let upstream = *target.lock().unwrap();
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                // Per connection: pass, cut after some bytes, or stall first.
                // Every connection is cut sooner or later (kept-alive ones too); a third stall first.
                let (mut cut_after, mut stall) = (u64::MAX, Duration::ZERO);
                if faults.load(Ordering::Relaxed) {
                    cut_after = 100 + next(&mut seed) % 120_000;
                    cut.fetch_add(1, Ordering::Relaxed);
                    if next(&mut seed).is_multiple_of(3) {
                        stall = Duration::from_millis(300 + next(&mut seed) % 1500);
                        stalled.fetch_add(1, Ordering::Relaxed);
                    }
                }
                let moved = Arc::new(AtomicU64::new(0));
                for (from, to, count_down) in [
                    (
                        client.try_clone().unwrap(),
                        server.try_clone().unwrap(),
                        false,
                    ),
                    (server, client, true),
                ] {
                    let (down, moved) = (down.clone(), moved.clone());
                    let big = count_down.then(|| (serial, big.clone()));
                    std::thread::spawn(move || {
                        pump(
                            from,
                            to,
                            count_down.then_some(down),
                            moved,
                            cut_after,
                            stall,
                            big,
                        )
                    });
                }
            }
        });
        p
    }

    pub fn set_target(&self, addr: SocketAddr) {
        *self.target.lock().unwrap() = addr;
    }

    /// Cuts the line (every connection drops, new ones are refused) or mends it.
    pub fn sever(&self, on: bool) {
        self.severed.store(on, Ordering::Relaxed);
        if on {
            for c in self.live.lock().unwrap().drain(..) {
                let _ = c.shutdown(Shutdown::Both);
            }
        }
    }

    /// Cuts the next `times` new connections that move more than `bytes` towards the client
    /// (a download), each once it has; other traffic, and connections open before, pass.
    pub fn cut_big_transfers(&self, bytes: u64, times: u64) {
        self.big
            .2
            .store(self.accepted.load(Ordering::SeqCst), Ordering::SeqCst);
        self.big.0.store(bytes, Ordering::SeqCst);
        self.big.1.store(times, Ordering::SeqCst);
    }

    /// Big transfers still to cut.
    pub fn big_cuts_left(&self) -> u64 {
        self.big.1.load(Ordering::SeqCst)
    }

    pub fn set_faults(&self, on: bool) {
        self.faults.store(on, Ordering::Relaxed);
    }
}

fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    down: Option<Arc<AtomicU64>>,
    moved: Arc<AtomicU64>,
    cut_after: u64,
    stall: Duration,
    big: Option<(u64, Arc<BigCut>)>,
) {
    std::thread::sleep(stall);
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        if let Some(d) = &down {
            d.fetch_add(n as u64, Ordering::Relaxed);
        }
        let total = moved.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if total > cut_after {
            break;
        }
        if let Some((serial, big)) = &big
            && *serial >= big.2.load(Ordering::SeqCst)
            && total > big.0.load(Ordering::SeqCst)
            && big
                .1
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    left.checked_sub(1)
                })
                .is_ok()
        {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
