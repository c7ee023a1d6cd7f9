use super::*;

fn net(s: &str) -> IpNet {
    parse_cidr(s).unwrap()
}

fn ip(s: &str) -> u128 {
    to_int(s.parse().unwrap())
}

#[test]
fn a_cidr_loses_its_host_bits() {
    assert_eq!(
        parse_cidr("10.0.0.1/24").unwrap().to_string(),
        "10.0.0.0/24"
    );
    assert_eq!(
        parse_cidr("0.0.0.0/0").unwrap_err(),
        "0 is not allowed as CIDR prefix length"
    );
    assert!(parse_cidr("10.0.0.0/33").is_err());
    assert!(parse_cidr("banana").is_err());
    assert!(parse_cidr("2001:db8::/64").is_ok());
}

#[test]
fn default_pools_leave_out_network_broadcast_and_gateway() {
    let n = net("10.0.0.0/24");
    let gw = default_gateway(&n).unwrap();
    assert_eq!(gw.to_string(), "10.0.0.1");
    assert_eq!(
        default_pools(&n, Some(gw)),
        vec![Pool {
            start: ip("10.0.0.2"),
            end: ip("10.0.0.254")
        }]
    );
    // A gateway in the middle splits the range.
    let mid: IpAddr = "10.0.0.100".parse().unwrap();
    assert_eq!(default_pools(&n, Some(mid)).len(), 2);
    // No gateway: the whole host range.
    assert_eq!(default_pools(&n, None)[0].start, ip("10.0.0.1"));
    let v6 = net("2001:db8::/64");
    assert_eq!(default_gateway(&v6).unwrap().to_string(), "2001:db8::");
    let pools = default_pools(&v6, default_gateway(&v6));
    assert_eq!(pools[0].start, ip("2001:db8::1"));
    assert_eq!(pools[0].end, ip("2001:db8::ffff:ffff:ffff:ffff"));
}

#[test]
fn pools_are_checked_against_cidr_each_other_and_gateway() {
    let n = net("10.0.0.0/24");
    let gw = Some("10.0.0.1".parse().unwrap());
    let p = |a: &str, b: &str| Pool {
        start: ip(a),
        end: ip(b),
    };
    assert!(check_pools(&n, &[p("10.0.0.10", "10.0.0.20")], gw).is_ok());
    assert!(matches!(
        check_pools(&n, &[p("10.0.0.20", "10.0.0.10")], gw),
        Err(PoolError::Invalid(_))
    ));
    assert!(matches!(
        check_pools(&n, &[p("10.0.0.10", "10.0.1.20")], gw),
        Err(PoolError::OutOfBounds { .. })
    ));
    assert!(matches!(
        check_pools(&n, &[p("10.0.0.10", "10.0.0.255")], gw),
        Err(PoolError::OutOfBounds { .. })
    ));
    assert!(matches!(
        check_pools(
            &n,
            &[p("10.0.0.10", "10.0.0.20"), p("10.0.0.20", "10.0.0.30")],
            gw
        ),
        Err(PoolError::Overlapping(..))
    ));
    assert_eq!(
        check_pools(&n, &[p("10.0.0.1", "10.0.0.20")], gw),
        Err(PoolError::Gateway {
            gateway: "10.0.0.1".into(),
            pool: "10.0.0.1-10.0.0.20".into()
        })
    );
}

#[test]
fn eui64_follows_rfc_4291() {
    let n = net("2001:db8:1::/64");
    let a = eui64(&n, [0xfa, 0x16, 0x3e, 0x12, 0x34, 0x56]);
    assert_eq!(a.to_string(), "2001:db8:1:0:f816:3eff:fe12:3456");
}

#[test]
fn candidates_stay_in_the_pools_and_free_ones_skip_taken() {
    let pools = [
        Pool {
            start: ip("10.0.0.2"),
            end: ip("10.0.0.3"),
        },
        Pool {
            start: ip("10.0.0.9"),
            end: ip("10.0.0.9"),
        },
    ];
    for c in random_candidates(&pools, 100) {
        assert!(pools.iter().any(|p| p.contains(c)));
    }
    let taken: HashSet<u128> = [ip("10.0.0.2"), ip("10.0.0.9")].into();
    assert_eq!(free_in_order(&pools, &taken, 5), vec![ip("10.0.0.3")]);
    let all: HashSet<u128> = [ip("10.0.0.2"), ip("10.0.0.3"), ip("10.0.0.9")].into();
    assert!(free_in_order(&pools, &all, 5).is_empty());
}
