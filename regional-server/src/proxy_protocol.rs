//! HAProxy's PROXY protocol (version 2), read before TLS on connections from the proxies the
//! config trusts (`proxy_protocol_from`): behind a load balancer every connection comes from
//! the balancer, and without the header each citizen's address (rate limits, logs, the login
//! throttle) would be the balancer's. A trusted proxy must send it; anyone else may not.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::AsyncReadExt;

const SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// Addresses plus the TLVs HAProxy may add; anything longer is refused.
const MAX_BODY: usize = 512;

/// The client's address the proxy announces; `None` for its own connections (health checks,
/// `LOCAL`) and for address families other than TCP over IPv4/IPv6.
pub async fn read_v2<R: AsyncReadExt + Unpin>(r: &mut R) -> std::io::Result<Option<SocketAddr>> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut head = [0u8; 16];
    r.read_exact(&mut head).await?;
    if head[..12] != SIGNATURE {
        return Err(bad("no PROXY v2 header from a trusted proxy"));
    }
    if head[12] >> 4 != 2 {
        return Err(bad("PROXY header of another version"));
    }
    let len = u16::from_be_bytes([head[14], head[15]]) as usize;
    if len > MAX_BODY {
        return Err(bad("PROXY header too long"));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    if head[12] & 0x0f == 0 {
        return Ok(None); // LOCAL: the proxy's own connection
    }
    let port = |b: &[u8]| u16::from_be_bytes([b[0], b[1]]);
    Ok(match head[13] {
        0x11 if len >= 12 => {
            let ip = Ipv4Addr::new(body[0], body[1], body[2], body[3]);
            Some(SocketAddr::new(IpAddr::V4(ip), port(&body[8..10])))
        }
        0x21 if len >= 36 => {
            let ip: [u8; 16] = body[..16].try_into().expect("16 bytes");
            Some(SocketAddr::new(
                IpAddr::V6(Ipv6Addr::from(ip)),
                port(&body[32..34]),
            ))
        }
        0x11 | 0x21 => return Err(bad("PROXY header too short for its addresses")),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cmd: u8, fam: u8, body: &[u8]) -> Vec<u8> {
        let mut h = SIGNATURE.to_vec();
        h.extend([0x20 | cmd, fam]);
        h.extend((body.len() as u16).to_be_bytes());
        h.extend(body);
        h
    }

    #[tokio::test]
    async fn the_client_address_is_read_and_anything_else_refused() {
        let v4 = header(
            1,
            0x11,
            &[10, 1, 2, 3, 127, 0, 0, 1, 0x1f, 0x90, 0x20, 0xfb],
        );
        let mut with_rest = v4.clone();
        with_rest.extend(b"\x16\x03\x01"); // the TLS hello follows, untouched
        let mut r = &with_rest[..];
        assert_eq!(
            read_v2(&mut r).await.unwrap(),
            Some("10.1.2.3:8080".parse().unwrap())
        );
        assert_eq!(r, b"\x16\x03\x01");
        let local = header(0, 0x00, &[]);
        assert_eq!(read_v2(&mut &local[..]).await.unwrap(), None);
        let mut v6body = vec![0u8; 36];
        v6body[15] = 1;
        v6body[32..34].copy_from_slice(&443u16.to_be_bytes());
        let v6 = header(1, 0x21, &v6body);
        assert_eq!(
            read_v2(&mut &v6[..]).await.unwrap(),
            Some("[::1]:443".parse().unwrap())
        );
        assert!(
            read_v2(&mut &b"\x16\x03\x01\x02\x00 hello there"[..])
                .await
                .is_err()
        );
        assert!(
            read_v2(&mut &header(1, 0x11, &[1, 2, 3])[..])
                .await
                .is_err()
        );
        let mut long = SIGNATURE.to_vec();
        long.extend([0x21, 0x11, 0xff, 0xff]);
        assert!(read_v2(&mut &long[..]).await.is_err());
    }
}
