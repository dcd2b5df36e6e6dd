//! How many connections each client address holds, so that one client (a slowloris
//! trickling a byte of body every few seconds, or half-sent headers reopened as soon as
//! they time out) cannot take every connection the server has. An IPv6 client is counted
//! by its /64, which one household or one attacker usually has whole.

use std::net::IpAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::shares::{Share, Shares};

/// The answer to a connection over its address's share, before closing it.
const TOO_MANY: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\n\
content-type: text/plain; charset=utf-8\r\n\
retry-after: 5\r\n\
connection: close\r\n\
content-length: 59\r\n\
\r\n\
Too many connections from your address; try again shortly.\n";

/// How long a refused connection is given to take its answer.
const REFUSAL_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// Refused connections answered at once; past that a refused connection is closed
/// without an answer, so a flood of connections cannot hold file descriptors through
/// the refusals.
pub const REFUSALS_ANSWERED: usize = 64;

/// Open connections per client address.
#[derive(Clone)]
pub struct PerClient {
    open: Arc<Shares<IpAddr>>,
    unlimited: Arc<[IpAddr]>,
}

/// One counted connection; dropping it gives its address's share back.
pub type Held = Share<IpAddr>;

impl PerClient {
    /// At most `max` connections per address, except for the `unlimited` addresses.
    pub fn new(max: usize, unlimited: Vec<IpAddr>) -> Self {
        Self {
            open: Arc::new(Shares::new(max)),
            unlimited: unlimited.into(),
        }
    }

    /// Counts a connection from `peer`: `Ok(None)` for an unlimited address, `Err(())`
    /// when the address already holds its share.
    pub fn admit(&self, peer: IpAddr) -> Result<Option<Held>, ()> {
        let peer = peer.to_canonical();
        if self.unlimited.contains(&peer) {
            return Ok(None);
        }
        self.open.take(client_key(peer)).map(Some).ok_or(())
    }
}

/// The address a client is counted under: IPv4 as it is, IPv6 by its /64.
fn client_key(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(network.into())
        }
    }
}

/// Answers 429 on a refused connection and closes it, reading what the client sent
/// meanwhile so that the close is not a reset that could discard the answer; gives up
/// after [`REFUSAL_DEADLINE`]. `_slot` is one of [`REFUSALS_ANSWERED`].
pub async fn refuse(mut tcp: TcpStream, _slot: tokio::sync::OwnedSemaphorePermit) {
    let _ = tokio::time::timeout(REFUSAL_DEADLINE, async {
        tcp.write_all(TOO_MANY).await?;
        tcp.shutdown().await?;
        let mut sink = [0u8; 4096];
        while tcp.read(&mut sink).await? > 0 {}
        std::io::Result::Ok(())
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_its_share_and_gets_it_back() {
        let limit = PerClient::new(2, vec!["127.0.0.1".parse().unwrap()]);
        let peer: IpAddr = "192.0.2.7".parse().unwrap();
        let first = limit.admit(peer).unwrap();
        let second = limit.admit(peer).unwrap();
        assert!(
            limit.admit(peer).is_err(),
            "a third connection was admitted"
        );
        assert!(
            limit.admit("192.0.2.8".parse().unwrap()).is_ok(),
            "another address shares the first one's count"
        );
        drop(first);
        assert!(
            limit.admit(peer).is_ok(),
            "a closed connection was not given back"
        );
        drop(second);
        for _ in 0..10 {
            assert!(
                limit.admit("127.0.0.1".parse().unwrap()).unwrap().is_none(),
                "an unlimited address was counted"
            );
        }
    }

    #[test]
    fn the_refusal_states_its_body_length() {
        let text = std::str::from_utf8(TOO_MANY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(length, body.len());
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_mapped_ipv4_as_ipv4() {
        let limit = PerClient::new(1, vec![]);
        let _a = limit.admit("2001:db8:1:2::1".parse().unwrap()).unwrap();
        assert!(
            limit
                .admit("2001:db8:1:2:ffff::9".parse().unwrap())
                .is_err(),
            "another address of the same /64 got its own share"
        );
        assert!(limit.admit("2001:db8:1:3::1".parse().unwrap()).is_ok());
        let _b = limit.admit("192.0.2.1".parse().unwrap()).unwrap();
        assert!(
            limit.admit("::ffff:192.0.2.1".parse().unwrap()).is_err(),
            "an IPv4-mapped address escaped its IPv4 count"
        );
    }
}
