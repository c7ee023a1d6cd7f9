//! The network service's Neutron API: networks (tenant VXLAN and admin
//! provider segments), subnets (defaults, pools, IPv6 modes, overlap),
//! ports (addresses, MACs, SLAAC), tenant isolation, listing, extensions.

use reqwest::Method;
use serde_json::{Value, json};
use virga_tests::Cloud;

crate::on_both_backends!(
    networks,
    subnets,
    ports,
    listing,
    security_groups,
    quotas,
    routers
);

pub(crate) async fn neutron(
    cloud: &Cloud,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", cloud.url("network")))
        .header("X-Auth-Token", token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A caller of the network API with one token.
pub(crate) struct Net<'a> {
    pub cloud: &'a Cloud,
    pub token: String,
}

impl Net<'_> {
    pub async fn get(&self, path: &str) -> (u16, Value) {
        neutron(self.cloud, &self.token, Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        neutron(self.cloud, &self.token, Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        neutron(self.cloud, &self.token, Method::PUT, path, Some(body)).await
    }
    /// A delete's status and error body (for the refused ones).
    pub async fn delete_answer(&self, path: &str) -> (u16, Value) {
        neutron(self.cloud, &self.token, Method::DELETE, path, None).await
    }
    pub async fn delete(&self, path: &str) -> u16 {
        neutron(self.cloud, &self.token, Method::DELETE, path, None)
            .await
            .0
    }
    /// Creates and returns the object, asserting 201.
    pub async fn create(&self, kind: &str, body: Value) -> Value {
        let (s, v) = self
            .post(
                &format!("/v2.0/{}s", kind.replace('_', "-")),
                json!({ kind: body }),
            )
            .await;
        assert_eq!(s, 201, "create {kind}: {v}");
        v[kind].clone()
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn err_type(v: &Value) -> &str {
    v["NeutronError"]["type"].as_str().unwrap_or("")
}

fn message(v: &Value) -> &str {
    v["NeutronError"]["message"].as_str().unwrap_or("")
}

async fn networks(cloud: &Cloud) {
    let admin_token = cloud.admin_token().await;
    let admin = Net {
        cloud,
        token: admin_token.clone(),
    };
    let (t, project) = cloud.user_with_role(&admin_token, "alpha", "member").await;
    let alpha = Net { cloud, token: t };
    let (t, _) = cloud.user_with_role(&admin_token, "beta", "member").await;
    let beta = Net { cloud, token: t };

    // A tenant network: VXLAN, MTU 1450, provider attributes hidden.
    let net = alpha
        .create("network", json!({"name": "net1", "admin_state_up": true}))
        .await;
    assert_eq!(net["project_id"], project.as_str());
    assert_eq!(net["tenant_id"], project.as_str());
    assert_eq!(
        (
            net["status"].as_str(),
            net["mtu"].as_i64(),
            net["shared"].as_bool()
        ),
        (Some("ACTIVE"), Some(1450), Some(false))
    );
    assert_eq!(net["subnets"], json!([]));
    assert!(net.get("provider:network_type").is_none(), "{net}");
    assert!(net["created_at"].as_str().unwrap().ends_with('Z'));
    let nid = id(&net);
    let (s, seen) = admin.get(&format!("/v2.0/networks/{nid}")).await;
    assert_eq!(s, 200);
    let vni = seen["network"]["provider:segmentation_id"]
        .as_i64()
        .unwrap();
    assert_eq!(seen["network"]["provider:network_type"], "vxlan");
    assert_eq!(seen["network"]["provider:physical_network"], Value::Null);
    // Another tenant's network is not there for beta.
    let (s, e) = beta.get(&format!("/v2.0/networks/{nid}")).await;
    assert_eq!((s, err_type(&e)), (404, "NetworkNotFound"), "{e}");
    assert_eq!(beta.delete(&format!("/v2.0/networks/{nid}")).await, 404);
    let (_, list) = beta.get("/v2.0/networks").await;
    assert!(list["networks"].as_array().unwrap().is_empty(), "{list}");

    // Admin-only attributes.
    for (body, what) in [
        (json!({"name": "s", "shared": true}), "shared"),
        (json!({"name": "x", "router:external": true}), "external"),
        (
            json!({"name": "p", "provider:network_type": "vxlan"}),
            "provider",
        ),
    ] {
        let (s, e) = alpha.post("/v2.0/networks", json!({"network": body})).await;
        assert_eq!(s, 403, "{what}: {e}");
    }
    let (s, e) = alpha
        .post(
            "/v2.0/networks",
            json!({"network": {"name": "o", "project_id": "someone-else"}}),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    // Provider networks: VLAN on a known physical network; the same VLAN
    // again is 409, a vxlan id in use too.
    let vlan = admin
        .create(
            "network",
            json!({"name": "v100", "provider:network_type": "vlan",
                   "provider:physical_network": "physnet1", "provider:segmentation_id": 100}),
        )
        .await;
    assert_eq!(vlan["mtu"], 1500);
    assert_eq!(vlan["provider:segmentation_id"], 100);
    let (s, e) = admin
        .post(
            "/v2.0/networks",
            json!({"network": {"name": "again", "provider:network_type": "vlan",
            "provider:physical_network": "physnet1", "provider:segmentation_id": 100}}),
        )
        .await;
    assert_eq!((s, err_type(&e)), (409, "VlanIdInUse"), "{e}");
    assert_eq!(
        message(&e),
        "Unable to create the network. The VLAN 100 on physical network physnet1 is in use."
    );
    let (s, e) = admin
        .post(
            "/v2.0/networks",
            json!({"network": {"provider:network_type": "vxlan",
            "provider:segmentation_id": vni}}),
        )
        .await;
    assert_eq!((s, err_type(&e)), (409, "TunnelIdInUse"), "{e}");
    for (body, needle) in [
        (
            json!({"provider:network_type": "vlan", "provider:physical_network": "nowhere", "provider:segmentation_id": 5}),
            "physical_network 'nowhere' unknown",
        ),
        (
            json!({"provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 5000}),
            "out of range",
        ),
        (
            json!({"provider:network_type": "flat"}),
            "physical_network required",
        ),
        (
            json!({"provider:network_type": "gre"}),
            "network_type value 'gre' not supported",
        ),
        (
            json!({"mtu": 9000}),
            "Requested MTU is too big, maximum is 1450",
        ),
    ] {
        let (s, e) = admin.post("/v2.0/networks", json!({"network": body})).await;
        assert_eq!(s, 400, "{body}: {e}");
        assert!(message(&e).contains(needle), "{body}: {e}");
    }
    let flat = admin
        .create(
            "network",
            json!({"name": "ext", "provider:network_type": "flat",
            "provider:physical_network": "physnet1", "router:external": true}),
        )
        .await;
    assert_eq!(flat["provider:segmentation_id"], Value::Null);
    // External networks are visible to every project.
    let (s, _) = beta.get(&format!("/v2.0/networks/{}", id(&flat))).await;
    assert_eq!(s, 200);

    // Body errors.
    for (body, needle) in [
        (
            json!({"network": {"name": "x", "colour": "red"}}),
            "Unrecognized attribute(s) 'colour'",
        ),
        (
            json!({"network": {"status": "DOWN"}}),
            "Attribute 'status' not allowed in POST",
        ),
        (
            json!({"network": {"admin_state_up": "maybe"}}),
            "cannot be converted to boolean",
        ),
        (json!({"network": {"name": 7}}), "is not a valid string"),
        (
            json!({"net": {}}),
            "Unable to find 'network' in request body",
        ),
    ] {
        let (s, e) = alpha.post("/v2.0/networks", body.clone()).await;
        assert_eq!(s, 400, "{body}: {e}");
        assert!(message(&e).contains(needle), "{body}: {e}");
    }

    // Update: name, MTU; read-only attributes refused; revision goes up.
    let (s, up) = alpha
        .put(
            &format!("/v2.0/networks/{nid}"),
            json!({"network": {"name": "renamed", "mtu": 1400}}),
        )
        .await;
    assert_eq!(s, 200, "{up}");
    assert_eq!(
        (
            up["network"]["name"].as_str(),
            up["network"]["mtu"].as_i64()
        ),
        (Some("renamed"), Some(1400))
    );
    assert!(up["network"]["revision_number"].as_i64() > net["revision_number"].as_i64());
    let (s, e) = alpha
        .put(
            &format!("/v2.0/networks/{nid}"),
            json!({"network": {"id": "x"}}),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(message(&e), "Cannot update read-only attribute id");
    let (s, _) = alpha
        .put(
            &format!("/v2.0/networks/{nid}"),
            json!({"network": {"shared": true}}),
        )
        .await;
    assert_eq!(s, 403);

    // A shared network: beta sees it and may put a port on it; then it
    // cannot stop being shared.
    let (s, shared) = admin
        .put(
            &format!("/v2.0/networks/{nid}"),
            json!({"network": {"shared": true}}),
        )
        .await;
    assert_eq!(s, 200, "{shared}");
    alpha
        .create(
            "subnet",
            json!({"network_id": nid, "ip_version": 4, "cidr": "10.9.0.0/24"}),
        )
        .await;
    let bport = beta.create("port", json!({"network_id": nid})).await;
    let (s, e) = admin
        .put(
            &format!("/v2.0/networks/{nid}"),
            json!({"network": {"shared": false}}),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    // Delete: refused while ports remain, naming them; then it goes with
    // its subnets.
    let (s, e) = alpha.delete_answer(&format!("/v2.0/networks/{nid}")).await;
    assert_eq!((s, err_type(&e)), (409, "NetworkInUse"), "{e}");
    assert!(message(&e).contains(&id(&bport)), "{e}");
    assert_eq!(
        beta.delete(&format!("/v2.0/ports/{}", id(&bport))).await,
        204
    );
    assert_eq!(alpha.delete(&format!("/v2.0/networks/{nid}")).await, 204);
    let (s, _) = alpha.get(&format!("/v2.0/networks/{nid}")).await;
    assert_eq!(s, 404);
    let (_, subs) = admin.get(&format!("/v2.0/subnets?network_id={nid}")).await;
    assert!(subs["subnets"].as_array().unwrap().is_empty(), "{subs}");

    // Extensions: exactly what is implemented.
    let (s, ext) = alpha.get("/v2.0/extensions").await;
    assert_eq!(s, 200);
    let aliases: Vec<&str> = ext["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["alias"].as_str().unwrap())
        .collect();
    for a in [
        "provider",
        "external-net",
        "net-mtu",
        "binding",
        "port-security",
        "filter-validation",
        "security-group",
    ] {
        assert!(aliases.contains(&a), "{a} in {aliases:?}");
    }
    for a in ["standard-attr-tag", "dns-integration"] {
        assert!(!aliases.contains(&a), "{a} not yet implemented");
    }
    let (s, _) = alpha.get("/v2.0/extensions/dns-integration").await;
    assert_eq!(s, 404);
    let (s, res) = alpha.get("/v2.0/").await;
    assert_eq!(s, 200);
    assert_eq!(res["resources"].as_array().unwrap().len(), 7, "{res}");
}

async fn subnets(cloud: &Cloud) {
    let admin_token = cloud.admin_token().await;
    let (t, _) = cloud.user_with_role(&admin_token, "alpha", "member").await;
    let alpha = Net { cloud, token: t };
    let (t, _) = cloud.user_with_role(&admin_token, "beta", "member").await;
    let beta = Net { cloud, token: t };
    let net = alpha.create("network", json!({"name": "n"})).await;
    let nid = id(&net);

    // Defaults: IPv4 gateway .1 and the rest as the pool; IPv6 gateway
    // the network address.
    let s4 = alpha
        .create("subnet", json!({"network_id": nid, "ip_version": 4, "cidr": "10.0.0.0/24",
            "dns_nameservers": ["10.0.0.53"], "host_routes": [{"destination": "10.5.0.0/16", "nexthop": "10.0.0.254"}]}))
        .await;
    assert_eq!(s4["gateway_ip"], "10.0.0.1");
    assert_eq!(
        s4["allocation_pools"],
        json!([{"start": "10.0.0.2", "end": "10.0.0.254"}])
    );
    assert_eq!(s4["enable_dhcp"], true);
    assert_eq!(s4["dns_nameservers"], json!(["10.0.0.53"]));
    assert_eq!(s4["host_routes"][0]["destination"], "10.5.0.0/16");
    let s6 = alpha
        .create(
            "subnet",
            json!({"network_id": nid, "ip_version": 6, "cidr": "fd00:1::/64",
            "ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac"}),
        )
        .await;
    assert_eq!(s6["gateway_ip"], "fd00:1::");
    assert_eq!(s6["allocation_pools"][0]["start"], "fd00:1::1");
    let (_, shown) = alpha.get(&format!("/v2.0/networks/{nid}")).await;
    assert_eq!(shown["network"]["subnets"].as_array().unwrap().len(), 2);
    // Host bits are masked; no gateway leaves the whole range.
    let s2 = alpha
        .create(
            "subnet",
            json!({"network_id": nid, "ip_version": 4, "cidr": "10.1.0.7/29", "gateway_ip": null}),
        )
        .await;
    assert_eq!(s2["cidr"], "10.1.0.0/29");
    assert_eq!(s2["gateway_ip"], Value::Null);
    assert_eq!(
        s2["allocation_pools"],
        json!([{"start": "10.1.0.1", "end": "10.1.0.6"}])
    );

    // Bad input.
    let post = |body: Value| {
        let mut b = json!({"network_id": nid, "ip_version": 4});
        b.as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let alpha = &alpha;
        async move { alpha.post("/v2.0/subnets", json!({ "subnet": b })).await }
    };
    for (body, status, needle) in [
        (
            json!({"cidr": "10.0.0.128/25"}),
            400,
            "overlaps with another subnet",
        ),
        (
            json!({"cidr": "10.2.0.0/24", "allocation_pools": [{"start": "10.2.0.10", "end": "10.3.0.1"}]}),
            400,
            "spans beyond the subnet cidr",
        ),
        (
            json!({"cidr": "10.2.0.0/24", "allocation_pools": [{"start": "10.2.0.20", "end": "10.2.0.10"}]}),
            400,
            "is not valid",
        ),
        (
            json!({"cidr": "10.2.0.0/24", "allocation_pools": [{"start": "10.2.0.1", "end": "10.2.0.50"}]}),
            409,
            "Gateway ip 10.2.0.1 conflicts with allocation pool 10.2.0.1-10.2.0.50.",
        ),
        (
            json!({"cidr": "10.2.0.0/24", "allocation_pools": [{"start": "10.2.0.10", "end": "10.2.0.20"}, {"start": "10.2.0.15", "end": "10.2.0.30"}]}),
            409,
            "Found overlapping allocation pools",
        ),
        (
            json!({"cidr": "10.2.0.0/24", "dns_nameservers": ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5", "1.1.1.6"]}),
            400,
            "exceeds the limit 5",
        ),
        (
            json!({"cidr": "10.2.0.0/24", "dns_nameservers": ["1.1.1.1", "1.1.1.1"]}),
            400,
            "Duplicate nameserver",
        ),
        (
            json!({"cidr": "10.2.0.0/24", "gateway_ip": "10.2.0.255"}),
            400,
            "Gateway is not valid on subnet",
        ),
        (json!({"cidr": "banana"}), 400, "is not a valid IP subnet"),
        (
            json!({"cidr": "fd00:2::/64"}),
            400,
            "does not match the ip_version",
        ),
        (
            json!({"cidr": "10.2.0.0/24", "ip_version": 5}),
            400,
            "is not in valid_values",
        ),
        (
            json!({"cidr": "10.2.0.0/24", "ipv6_address_mode": "slaac"}),
            400,
            "not valid when ip_version is 4",
        ),
        (
            json!({"cidr": "fd00:3::/80", "ip_version": 6, "ipv6_address_mode": "slaac"}),
            400,
            "requires the prefix to be /64",
        ),
        (
            json!({"cidr": "fd00:3::/64", "ip_version": 6, "ipv6_ra_mode": "slaac", "ipv6_address_mode": "dhcpv6-stateful"}),
            400,
            "they must be the same value",
        ),
        (
            json!({"ip_version": 4}),
            400,
            "Required attribute 'cidr' not specified",
        ),
    ] {
        let (s, e) = post(body.clone()).await;
        assert_eq!(s, status, "{body}: {e}");
        assert!(message(&e).contains(needle), "{body}: {e}");
    }
    // Another project may not add a subnet to alpha's network (it does
    // not see it).
    let (s, e) = beta
        .post(
            "/v2.0/subnets",
            json!({"subnet": {"network_id": nid, "ip_version": 4, "cidr": "10.7.0.0/24"}}),
        )
        .await;
    assert_eq!((s, err_type(&e)), (404, "NetworkNotFound"), "{e}");
    let (s, _) = beta.get(&format!("/v2.0/subnets/{}", id(&s4))).await;
    assert_eq!(s, 404);

    // Update: pools and DNS; a gateway moved into a pool is 409.
    let sid = id(&s4);
    let (s, up) = alpha
        .put(&format!("/v2.0/subnets/{sid}"), json!({"subnet": {"name": "renamed",
            "allocation_pools": [{"start": "10.0.0.100", "end": "10.0.0.200"}], "dns_nameservers": []}}))
        .await;
    assert_eq!(s, 200, "{up}");
    assert_eq!(
        up["subnet"]["allocation_pools"],
        json!([{"start": "10.0.0.100", "end": "10.0.0.200"}])
    );
    assert_eq!(up["subnet"]["dns_nameservers"], json!([]));
    let (s, e) = alpha
        .put(
            &format!("/v2.0/subnets/{sid}"),
            json!({"subnet": {"gateway_ip": "10.0.0.150"}}),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    let (s, e) = alpha
        .put(
            &format!("/v2.0/subnets/{sid}"),
            json!({"subnet": {"cidr": "10.0.0.0/16"}}),
        )
        .await;
    assert_eq!(
        (s, message(&e)),
        (400, "Cannot update read-only attribute cidr")
    );

    // A subnet with an address handed out cannot go; without, it can.
    let port = alpha
        .create(
            "port",
            json!({"network_id": nid, "fixed_ips": [{"subnet_id": sid}]}),
        )
        .await;
    let (s, e) = alpha.delete_answer(&format!("/v2.0/subnets/{sid}")).await;
    assert_eq!((s, err_type(&e)), (409, "SubnetInUse"), "{e}");
    assert_eq!(
        alpha.delete(&format!("/v2.0/ports/{}", id(&port))).await,
        204
    );
    assert_eq!(alpha.delete(&format!("/v2.0/subnets/{sid}")).await, 204);
    assert_eq!(alpha.delete(&format!("/v2.0/subnets/{sid}")).await, 404);
}

async fn ports(cloud: &Cloud) {
    let admin_token = cloud.admin_token().await;
    let admin = Net {
        cloud,
        token: admin_token.clone(),
    };
    let (t, _) = cloud.user_with_role(&admin_token, "alpha", "member").await;
    let alpha = Net { cloud, token: t };
    let net = alpha.create("network", json!({"name": "n"})).await;
    let nid = id(&net);
    // Addresses chosen below lie outside the pool, so no port given one
    // at random can hold them.
    let s4 = alpha
        .create(
            "subnet",
            json!({"network_id": nid, "ip_version": 4, "cidr": "192.168.10.0/24",
            "allocation_pools": [{"start": "192.168.10.100", "end": "192.168.10.200"}]}),
        )
        .await;
    let s6 = alpha
        .create(
            "subnet",
            json!({"network_id": nid, "ip_version": 6, "cidr": "fd00:a::/64",
            "ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac"}),
        )
        .await;

    // A port with no fixed_ips: one IPv4 address from the pool and its
    // SLAAC address, made from its MAC.
    let p = alpha
        .create("port", json!({"network_id": nid, "name": "p1"}))
        .await;
    let mac = p["mac_address"].as_str().unwrap().to_owned();
    assert!(mac.starts_with("fa:16:3e:"), "{mac}");
    assert_eq!(p["status"], "DOWN");
    let ips = p["fixed_ips"].as_array().unwrap();
    assert_eq!(ips.len(), 2, "{p}");
    assert_eq!(ips[0]["subnet_id"], id(&s4).as_str());
    let v4: std::net::Ipv4Addr = ips[0]["ip_address"].as_str().unwrap().parse().unwrap();
    assert!(
        (100..=200).contains(&v4.octets()[3]) && v4.octets()[..3] == [192, 168, 10],
        "{v4}"
    );
    let m: Vec<u8> = mac
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    let eui = format!(
        "fd00:a::{:x}:{:x}:{:x}:{:x}",
        ((m[0] ^ 2) as u16) << 8 | m[1] as u16,
        (m[2] as u16) << 8 | 0xff,
        0xfe00 | m[3] as u16,
        (m[4] as u16) << 8 | m[5] as u16
    );
    assert_eq!(ips[1]["ip_address"], eui.as_str(), "{p}");
    assert_eq!(ips[1]["subnet_id"], id(&s6).as_str());
    // Binding attributes are for admins only.
    assert!(p.get("binding:vif_type").is_none());
    let (_, seen) = admin.get(&format!("/v2.0/ports/{}", id(&p))).await;
    assert_eq!(seen["port"]["binding:vif_type"], "unbound");
    assert_eq!(seen["port"]["binding:vnic_type"], "normal");

    // A chosen address (outside the pool but in the subnet is allowed);
    // taking it again is 409; outside every subnet 400.
    let chosen = alpha
        .create(
            "port",
            json!({"network_id": nid, "fixed_ips": [{"ip_address": "192.168.10.1"}]}),
        )
        .await;
    assert_eq!(chosen["fixed_ips"][0]["ip_address"], "192.168.10.1");
    // Chosen addresses still get the SLAAC one.
    assert_eq!(chosen["fixed_ips"].as_array().unwrap().len(), 2);
    let (s, e) = alpha
        .post(
            "/v2.0/ports",
            json!({"port": {"network_id": nid, "fixed_ips": [{"ip_address": "192.168.10.1"}]}}),
        )
        .await;
    assert_eq!((s, err_type(&e)), (409, "IpAddressAlreadyAllocated"), "{e}");
    for (fixed, needle) in [
        (
            json!([{"ip_address": "172.16.0.5"}]),
            "is not a valid IP for any of the subnets",
        ),
        (
            json!([{"subnet_id": id(&s4), "ip_address": "192.168.10.255"}]),
            "is not a valid IP for the specified subnet",
        ),
        (
            json!([{"subnet_id": id(&s6), "ip_address": "fd00:a::5"}]),
            "configured for automatic addresses",
        ),
        (
            json!([{"ip_address": "192.168.10.9"}, {"ip_address": "192.168.10.9"}]),
            "Duplicate IP address",
        ),
        (
            json!([{"ip_address": "not-an-ip"}]),
            "is not a valid IP address",
        ),
        (
            json!([{"subnet_id": "00000000-0000-4000-8000-000000000000"}]),
            "included invalid subnet",
        ),
    ] {
        let (s, e) = alpha
            .post(
                "/v2.0/ports",
                json!({"port": {"network_id": nid, "fixed_ips": fixed}}),
            )
            .await;
        assert_eq!(s, 400, "{fixed}: {e}");
        assert!(message(&e).contains(needle), "{fixed}: {e}");
    }
    // Nothing half-made: the address refused above is still free.
    let again = alpha
        .create(
            "port",
            json!({"network_id": nid, "fixed_ips": [{"ip_address": "192.168.10.9"}]}),
        )
        .await;
    // A member may not set a MAC on another's network, nor bind; the
    // network's owner may set a MAC; the same MAC twice is 409.
    let (s, e) = alpha
        .post(
            "/v2.0/ports",
            json!({"port": {"network_id": nid, "binding:host_id": "node1"}}),
        )
        .await;
    assert_eq!(s, 403, "{e}");
    let with_mac = alpha
        .create(
            "port",
            json!({"network_id": nid, "mac_address": "fa:16:3e:00:00:01", "fixed_ips": []}),
        )
        .await;
    assert_eq!(with_mac["mac_address"], "fa:16:3e:00:00:01");
    let (s, e) = alpha
        .post(
            "/v2.0/ports",
            json!({"port": {"network_id": nid, "mac_address": "FA:16:3E:00:00:01"}}),
        )
        .await;
    assert_eq!((s, err_type(&e)), (409, "MacAddressInUse"), "{e}");
    let (s, e) = alpha
        .post(
            "/v2.0/ports",
            json!({"port": {"network_id": nid, "mac_address": "01:00:5e:00:00:01"}}),
        )
        .await;
    assert_eq!(s, 400, "multicast MAC: {e}");
    let (s, e) = alpha
        .post(
            "/v2.0/ports",
            json!({"port": {"network_id": nid, "port_security_enabled": false,
            "allowed_address_pairs": [{"ip_address": "10.0.0.0/24"}]}}),
        )
        .await;
    assert_eq!(
        (s, err_type(&e)),
        (409, "AddressPairAndPortSecurityRequired"),
        "{e}"
    );

    // Update moves addresses: the old one is free afterwards.
    let pid = id(&again);
    let (s, up) = alpha
        .put(
            &format!("/v2.0/ports/{pid}"),
            json!({"port": {"fixed_ips": [{"ip_address": "192.168.10.10"}],
            "allowed_address_pairs": [{"ip_address": "192.168.10.0/28"}]}}),
        )
        .await;
    assert_eq!(s, 200, "{up}");
    let now: Vec<&str> = up["port"]["fixed_ips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["ip_address"].as_str().unwrap())
        .collect();
    assert!(
        now.contains(&"192.168.10.10") && !now.contains(&"192.168.10.9"),
        "{up}"
    );
    assert_eq!(
        up["port"]["allowed_address_pairs"][0]["mac_address"],
        again["mac_address"]
    );
    alpha
        .create(
            "port",
            json!({"network_id": nid, "fixed_ips": [{"ip_address": "192.168.10.9"}]}),
        )
        .await;
    // Admins bind ports to a host.
    let (s, bound) = admin
        .put(&format!("/v2.0/ports/{pid}"), json!({"port": {"binding:host_id": "node-1", "device_id": "vm-1", "device_owner": "compute:nova"}}))
        .await;
    assert_eq!(s, 200, "{bound}");
    assert_eq!(bound["port"]["binding:vif_type"], "bridge");

    // Delete frees the address at once.
    assert_eq!(
        alpha.delete(&format!("/v2.0/ports/{}", id(&chosen))).await,
        204
    );
    alpha
        .create(
            "port",
            json!({"network_id": nid, "fixed_ips": [{"ip_address": "192.168.10.1"}]}),
        )
        .await;
    assert_eq!(
        alpha.delete(&format!("/v2.0/ports/{}", id(&chosen))).await,
        404
    );

    // Many concurrent creations on a small subnet: every address handed
    // out once, the rest refused with 409, none twice.
    let small = alpha.create("network", json!({"name": "small"})).await;
    let sid = id(&alpha
        .create(
            "subnet",
            json!({"network_id": id(&small), "ip_version": 4, "cidr": "10.50.0.0/27"}),
        )
        .await);
    let results = futures::future::join_all(
        (0..40).map(|_| alpha.post("/v2.0/ports", json!({"port": {"network_id": id(&small)}}))),
    )
    .await;
    let mut got: Vec<String> = Vec::new();
    let mut refused = 0;
    for (s, v) in &results {
        match s {
            201 => got.push(
                v["port"]["fixed_ips"][0]["ip_address"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ),
            409 => {
                assert_eq!(err_type(v), "IpAddressGenerationFailure", "{v}");
                refused += 1;
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    // A /27 has 30 host addresses, one the gateway's.
    assert_eq!((got.len(), refused), (29, 11));
    let mut unique = got.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), got.len(), "no address twice: {got:?}");
    let (_, listed) = alpha
        .get(&format!("/v2.0/ports?fixed_ips=subnet_id={sid}&fields=id"))
        .await;
    assert_eq!(listed["ports"].as_array().unwrap().len(), 29);
}

async fn listing(cloud: &Cloud) {
    let admin_token = cloud.admin_token().await;
    let (t, _) = cloud.user_with_role(&admin_token, "alpha", "member").await;
    let alpha = Net { cloud, token: t };
    let mut ids = Vec::new();
    for name in ["c", "a", "e", "b", "d"] {
        ids.push(id(&alpha
            .create(
                "network",
                json!({"name": name, "admin_state_up": name != "e"}),
            )
            .await));
    }
    // Filters, repeated for "any of"; booleans as Neutron spells them.
    let (_, v) = alpha
        .get("/v2.0/networks?name=a&name=b&fields=name&sort_key=name&sort_dir=asc")
        .await;
    assert_eq!(v["networks"], json!([{"name": "a"}, {"name": "b"}]), "{v}");
    let (_, v) = alpha
        .get("/v2.0/networks?admin_state_up=False&fields=name")
        .await;
    assert_eq!(v["networks"], json!([{"name": "e"}]), "{v}");
    // Sorting and pages of two, forwards by `next` links and back by
    // `previous`.
    let mut names = Vec::new();
    let mut next =
        Some("/v2.0/networks?limit=2&sort_key=name&sort_dir=desc&fields=name&fields=id".to_owned());
    let mut pages = 0;
    while let Some(path) = next.take() {
        let (s, v) = alpha.get(&path).await;
        assert_eq!(s, 200, "{path}: {v}");
        pages += 1;
        names.extend(
            v["networks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["name"].as_str().unwrap().to_owned()),
        );
        next = v["networks_links"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["rel"] == "next"))
            .map(|l| l["href"].as_str().unwrap().to_owned());
        assert!(pages < 5, "paging ends");
    }
    assert_eq!(names, ["e", "d", "c", "b", "a"]);
    let (_, page) = alpha
        .get("/v2.0/networks?limit=2&sort_key=name&fields=name&fields=id")
        .await;
    let last = page["networks"][1]["id"].as_str().unwrap().to_owned();
    let (_, second) = alpha
        .get(&format!(
            "/v2.0/networks?limit=2&sort_key=name&sort_dir=asc&fields=name&marker={last}"
        ))
        .await;
    assert_eq!(
        second["networks"],
        json!([{"name": "c"}, {"name": "d"}]),
        "{second}"
    );
    let prev = second["networks_links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "previous")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, back) = alpha.get(&prev).await;
    let back_names: Vec<&str> = back["networks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(back_names, ["a", "b"], "{back}");
    // Bad queries.
    for (q, needle) in [
        (
            "colour=red",
            "['colour'] is invalid attribute for filtering",
        ),
        (
            "port_security_enabled=true",
            "is invalid attribute for filtering",
        ),
        (
            "provider:network_type=vxlan",
            "is invalid attribute for filtering",
        ),
        (
            "sort_key=mtu&sort_key=name&sort_dir=asc",
            "The number of sort_keys and sort_dirs must be same",
        ),
        (
            "sort_key=colour",
            "['colour'] is invalid attribute for sort_keys",
        ),
        (
            "sort_key=name&sort_dir=up",
            "['up'] is invalid value for sort_dirs",
        ),
        ("limit=-1", "Limit must be an integer 0 or greater"),
        ("admin_state_up=perhaps", "cannot be converted to boolean"),
    ] {
        let (s, e) = alpha.get(&format!("/v2.0/networks?{q}")).await;
        assert_eq!(s, 400, "{q}: {e}");
        assert!(message(&e).contains(needle), "{q}: {e}");
    }
    // Ports by address; an unknown port marker is 404.
    let n = alpha.create("network", json!({"name": "pn"})).await;
    alpha
        .create(
            "subnet",
            json!({"network_id": id(&n), "ip_version": 4, "cidr": "10.60.0.0/24"}),
        )
        .await;
    let p = alpha
        .create(
            "port",
            json!({"network_id": id(&n), "fixed_ips": [{"ip_address": "10.60.0.77"}]}),
        )
        .await;
    alpha.create("port", json!({"network_id": id(&n)})).await;
    let (_, v) = alpha
        .get("/v2.0/ports?fixed_ips=ip_address%3D10.60.0.77")
        .await;
    assert_eq!(v["ports"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["ports"][0]["id"], id(&p).as_str());
    let (s, _) = alpha
        .get("/v2.0/ports?marker=00000000-0000-4000-8000-000000000000&limit=1")
        .await;
    assert_eq!(s, 404);
    let (_, v) = alpha
        .get(&format!("/v2.0/ports/{}?fields=mac_address", id(&p)))
        .await;
    assert_eq!(v["port"].as_object().unwrap().len(), 1, "{v}");
}

fn rule_key(r: &Value) -> String {
    format!(
        "{} {} {}",
        r["direction"].as_str().unwrap(),
        r["ethertype"].as_str().unwrap(),
        r["remote_group_id"]
    )
}

async fn security_groups(cloud: &Cloud) {
    let admin_token = cloud.admin_token().await;
    let (t, _) = cloud.user_with_role(&admin_token, "alpha", "member").await;
    let alpha = Net { cloud, token: t };
    let (t, _) = cloud.user_with_role(&admin_token, "beta", "member").await;
    let beta = Net { cloud, token: t };
    let net = alpha.create("network", json!({"name": "n"})).await;
    let nid = id(&net);
    alpha
        .create(
            "subnet",
            json!({"network_id": nid, "ip_version": 4, "cidr": "10.70.0.0/24"}),
        )
        .await;

    // The project's default group (made with its first network): every
    // port without groups is in it.
    let made = futures::future::join_all(
        (0..5).map(|_| alpha.post("/v2.0/ports", json!({"port": {"network_id": nid}}))),
    )
    .await;
    let mut groups: Vec<Value> = made
        .iter()
        .map(|(s, p)| {
            assert_eq!(*s, 201, "{p}");
            p["port"]["security_groups"].clone()
        })
        .collect();
    groups.dedup();
    assert_eq!(groups.len(), 1, "{groups:?}");
    let default_id = groups[0][0].as_str().unwrap().to_owned();
    let (_, list) = alpha.get("/v2.0/security-groups").await;
    let sgs = list["security_groups"].as_array().unwrap();
    assert_eq!(sgs.len(), 1, "{list}");
    let def = &sgs[0];
    assert_eq!(
        (def["id"].as_str(), def["name"].as_str()),
        (Some(default_id.as_str()), Some("default"))
    );
    // Egress anywhere, ingress from members, for IPv4 and IPv6.
    let mut rules: Vec<String> = def["security_group_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(rule_key)
        .collect();
    rules.sort();
    let own = format!("\"{default_id}\"");
    assert_eq!(
        rules,
        [
            "egress IPv4 null".to_owned(),
            "egress IPv6 null".to_owned(),
            format!("ingress IPv4 {own}"),
            format!("ingress IPv6 {own}"),
        ]
    );
    // Concurrent first uses by a new project agree on one default group.
    let (t, _) = cloud.user_with_role(&admin_token, "gamma", "member").await;
    let gamma = Net { cloud, token: t };
    let lists = futures::future::join_all((0..4).map(|_| gamma.get("/v2.0/security-groups"))).await;
    let ids: Vec<&Value> = lists
        .iter()
        .map(|(_, l)| &l["security_groups"][0]["id"])
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0] && i.is_string()),
        "{lists:?}"
    );
    let (_, l) = gamma.get("/v2.0/security-groups").await;
    assert_eq!(l["security_groups"].as_array().unwrap().len(), 1, "{l}");

    // A group of one's own: only egress, until rules are added.
    let web = alpha
        .create(
            "security_group",
            json!({"name": "web", "description": "http"}),
        )
        .await;
    let wid = id(&web);
    let web_rules = web["security_group_rules"].as_array().unwrap();
    assert_eq!(web_rules.len(), 2);
    assert!(web_rules.iter().all(|r| r["direction"] == "egress"));
    let rule = alpha
        .create("security_group_rule", json!({"security_group_id": wid, "direction": "ingress",
            "protocol": "tcp", "port_range_min": 80, "port_range_max": 80, "remote_group_id": default_id}))
        .await;
    assert_eq!(
        (rule["ethertype"].as_str(), rule["protocol"].as_str()),
        (Some("IPv4"), Some("tcp"))
    );
    let (s, e) = alpha
        .post(
            "/v2.0/security-group-rules",
            json!({"security_group_rule": {"security_group_id": wid,
            "direction": "ingress", "protocol": "6", "port_range_min": 80, "port_range_max": 80,
            "remote_group_id": default_id}}),
        )
        .await;
    assert_eq!((s, err_type(&e)), (409, "SecurityGroupRuleExists"), "{e}");
    assert!(message(&e).contains(&id(&rule)), "{e}");
    let icmp = alpha
        .create(
            "security_group_rule",
            json!({"security_group_id": wid, "direction": "ingress",
            "ethertype": "IPv6", "protocol": "icmp", "remote_ip_prefix": "fd00::/8"}),
        )
        .await;
    assert_eq!(icmp["protocol"], "ipv6-icmp");
    for (body, needle) in [
        (
            json!({"direction": "ingress", "protocol": "tcp", "port_range_min": 90, "port_range_max": 80}),
            "port_range_min must be <= port_range_max",
        ),
        (
            json!({"direction": "ingress", "protocol": "bogus"}),
            "protocol bogus not supported",
        ),
        (
            json!({"direction": "ingress", "protocol": "gre", "port_range_min": 1, "port_range_max": 2}),
            "Ports cannot be specified",
        ),
        (
            json!({"direction": "ingress", "port_range_min": 22, "port_range_max": 22}),
            "Must also specify protocol",
        ),
        (
            json!({"direction": "sideways"}),
            "sideways is not in valid_values",
        ),
        (
            json!({"direction": "ingress", "remote_ip_prefix": "fd00::/8"}),
            "Conflicting value ethertype IPv4",
        ),
        (
            json!({"direction": "ingress", "remote_ip_prefix": "10.0.0.0/8", "remote_group_id": default_id}),
            "Only one of remote_ip_prefix",
        ),
    ] {
        let mut b = body.clone();
        b["security_group_id"] = json!(wid);
        let (s, e) = alpha
            .post(
                "/v2.0/security-group-rules",
                json!({ "security_group_rule": b }),
            )
            .await;
        assert_eq!(s, 400, "{body}: {e}");
        assert!(message(&e).contains(needle), "{body}: {e}");
    }
    let (_, rules) = alpha
        .get(&format!(
            "/v2.0/security-group-rules?security_group_id={wid}"
        ))
        .await;
    assert_eq!(
        rules["security_group_rules"].as_array().unwrap().len(),
        4,
        "{rules}"
    );

    // Ports in chosen groups; another project's group is not there.
    let p = alpha
        .create("port", json!({"network_id": nid, "security_groups": [wid]}))
        .await;
    assert_eq!(p["security_groups"], json!([wid]));
    let (_, by_group) = alpha
        .get(&format!("/v2.0/ports?security_groups={wid}&fields=id"))
        .await;
    assert_eq!(by_group["ports"], json!([{"id": id(&p)}]));
    let (s, e) = alpha
        .post("/v2.0/ports", json!({"port": {"network_id": nid, "port_security_enabled": false, "security_groups": [wid]}}))
        .await;
    assert_eq!(s, 400, "{e}");
    let (s, e) = alpha
        .put(
            &format!("/v2.0/ports/{}", id(&p)),
            json!({"port": {"port_security_enabled": false}}),
        )
        .await;
    assert_eq!(
        (s, err_type(&e)),
        (409, "PortSecurityPortHasSecurityGroup"),
        "{e}"
    );
    let (s, up) = alpha
        .put(
            &format!("/v2.0/ports/{}", id(&p)),
            json!({"port": {"security_groups": [], "port_security_enabled": false}}),
        )
        .await;
    assert_eq!(s, 200, "{up}");
    assert_eq!(up["port"]["security_groups"], json!([]));
    let bnet = beta.create("network", json!({"name": "b"})).await;
    let (s, e) = beta
        .post(
            "/v2.0/ports",
            json!({"port": {"network_id": id(&bnet), "security_groups": [wid]}}),
        )
        .await;
    assert_eq!((s, err_type(&e)), (404, "SecurityGroupNotFound"), "{e}");
    let (s, _) = beta.get(&format!("/v2.0/security-groups/{wid}")).await;
    assert_eq!(s, 404);
    let (_, blist) = beta.get("/v2.0/security-groups").await;
    let names: Vec<&str> = blist["security_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default"], "beta sees only its own: {blist}");

    // The default group: not renamed, not deleted by a member, no second
    // one; a group ports are in is not deleted.
    let (s, e) = alpha
        .put(
            &format!("/v2.0/security-groups/{default_id}"),
            json!({"security_group": {"name": "other"}}),
        )
        .await;
    assert_eq!(
        (s, err_type(&e)),
        (409, "SecurityGroupCannotUpdateDefault"),
        "{e}"
    );
    let (s, e) = alpha
        .post(
            "/v2.0/security-groups",
            json!({"security_group": {"name": "Default"}}),
        )
        .await;
    assert_eq!(
        (s, err_type(&e)),
        (409, "SecurityGroupDefaultAlreadyExists"),
        "{e}"
    );
    let (s, e) = alpha
        .delete_answer(&format!("/v2.0/security-groups/{default_id}"))
        .await;
    assert_eq!(
        (s, err_type(&e)),
        (409, "SecurityGroupCannotRemoveDefault"),
        "{e}"
    );
    let (s, _) = alpha
        .put(
            &format!("/v2.0/ports/{}", id(&p)),
            json!({"port": {"port_security_enabled": true, "security_groups": [wid]}}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, e) = alpha
        .delete_answer(&format!("/v2.0/security-groups/{wid}"))
        .await;
    assert_eq!((s, err_type(&e)), (409, "SecurityGroupInUse"), "{e}");
    assert_eq!(alpha.delete(&format!("/v2.0/ports/{}", id(&p))).await, 204);
    assert_eq!(
        alpha
            .delete(&format!("/v2.0/security-group-rules/{}", id(&icmp)))
            .await,
        204
    );
    assert_eq!(
        alpha.delete(&format!("/v2.0/security-groups/{wid}")).await,
        204
    );
    let (s, _) = alpha
        .get(&format!("/v2.0/security-group-rules/{}", id(&rule)))
        .await;
    assert_eq!(s, 404, "rules go with their group");
}

async fn quotas(cloud: &Cloud) {
    let admin_token = cloud.admin_token().await;
    let admin = Net {
        cloud,
        token: admin_token.clone(),
    };
    let (t, alpha_project) = cloud.user_with_role(&admin_token, "alpha", "member").await;
    let alpha = Net { cloud, token: t };
    let (t, beta_project) = cloud.user_with_role(&admin_token, "beta", "member").await;
    let beta = Net { cloud, token: t };

    // Defaults, read by the project itself; not by another, not changed
    // by a member.
    let (s, q) = alpha.get(&format!("/v2.0/quotas/{alpha_project}")).await;
    assert_eq!(s, 200, "{q}");
    assert_eq!(
        (q["quota"]["network"].as_i64(), q["quota"]["port"].as_i64()),
        (Some(100), Some(500))
    );
    assert_eq!(
        beta.get(&format!("/v2.0/quotas/{alpha_project}")).await.0,
        404
    );
    let (s, _) = alpha
        .put(
            &format!("/v2.0/quotas/{alpha_project}"),
            json!({"quota": {"port": 1000}}),
        )
        .await;
    assert_eq!(s, 403);
    for (body, needle) in [
        (
            json!({"quota": {"colour": 1}}),
            "Unrecognized attribute(s) 'colour'",
        ),
        (
            json!({"quota": {"port": -5}}),
            "should be greater than or equal to -1",
        ),
        (json!({"quota": {"port": "many"}}), "is not an integer"),
    ] {
        let (s, e) = admin
            .put(&format!("/v2.0/quotas/{alpha_project}"), body.clone())
            .await;
        assert_eq!(s, 400, "{body}: {e}");
        assert!(message(&e).contains(needle), "{body}: {e}");
    }
    let (s, q) = admin
        .put(
            &format!("/v2.0/quotas/{alpha_project}"),
            json!({"quota": {"network": 1, "port": 3}}),
        )
        .await;
    assert_eq!(s, 200, "{q}");
    assert_eq!(
        (
            q["quota"]["network"].as_i64(),
            q["quota"]["subnet"].as_i64()
        ),
        (Some(1), Some(100))
    );
    let (_, all) = admin.get("/v2.0/quotas").await;
    assert!(
        all["quotas"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["project_id"] == alpha_project.as_str() && q["port"] == 3),
        "{all}"
    );

    // The limits hold, under concurrency too.
    let net = alpha.create("network", json!({"name": "only"})).await;
    let (s, e) = alpha
        .post("/v2.0/networks", json!({"network": {"name": "second"}}))
        .await;
    assert_eq!((s, err_type(&e)), (409, "OverQuota"), "{e}");
    assert_eq!(message(&e), "Quota exceeded for resources: ['network'].");
    alpha
        .create(
            "subnet",
            json!({"network_id": id(&net), "ip_version": 4, "cidr": "10.80.0.0/24"}),
        )
        .await;
    let made = futures::future::join_all(
        (0..6).map(|_| alpha.post("/v2.0/ports", json!({"port": {"network_id": id(&net)}}))),
    )
    .await;
    let ok = made.iter().filter(|(s, _)| *s == 201).count();
    let over = made
        .iter()
        .filter(|(s, v)| *s == 409 && err_type(v) == "OverQuota")
        .count();
    assert_eq!((ok, over), (3, 3), "{made:?}");
    let (_, d) = alpha
        .get(&format!("/v2.0/quotas/{alpha_project}/details"))
        .await;
    assert_eq!(
        d["quota"]["port"],
        json!({"limit": 3, "used": 3, "reserved": 0}),
        "{d}"
    );
    // Another project is not held by alpha's limits.
    let bnet = beta.create("network", json!({"name": "b1"})).await;
    beta.create("network", json!({"name": "b2"})).await;
    assert!(bnet["id"].is_string());
    let _ = beta_project;

    // Reset: the defaults apply again.
    assert_eq!(
        admin.delete(&format!("/v2.0/quotas/{alpha_project}")).await,
        204
    );
    alpha.create("network", json!({"name": "second"})).await;
    let (_, dflt) = alpha
        .get(&format!("/v2.0/quotas/{alpha_project}/default"))
        .await;
    assert_eq!(dflt["quota"]["security_group"], 10, "{dflt}");
}

async fn routers(cloud: &Cloud) {
    let admin_token = cloud.admin_token().await;
    let admin = Net {
        cloud,
        token: admin_token.clone(),
    };
    let (t, _) = cloud.user_with_role(&admin_token, "alpha", "member").await;
    let alpha = Net { cloud, token: t };
    let (t, _) = cloud.user_with_role(&admin_token, "beta", "member").await;
    let beta = Net { cloud, token: t };

    // An external network (addresses from TEST-NET-3: nothing is sent).
    let public = admin
        .create(
            "network",
            json!({"name": "public", "router:external": true,
            "provider:network_type": "flat", "provider:physical_network": "physnet1"}),
        )
        .await;
    let pub_id = id(&public);
    admin
        .create("subnet", json!({"network_id": pub_id, "ip_version": 4, "cidr": "203.0.113.0/24", "enable_dhcp": false}))
        .await;
    let net = alpha.create("network", json!({"name": "inside"})).await;
    let sub = alpha
        .create(
            "subnet",
            json!({"network_id": id(&net), "ip_version": 4, "cidr": "10.90.0.0/24"}),
        )
        .await;
    let sid = id(&sub);

    // A router with a gateway: SNAT on, an external address.
    let r = alpha
        .create(
            "router",
            json!({"name": "r1", "external_gateway_info": {"network_id": pub_id}}),
        )
        .await;
    let rid = id(&r);
    let gw = &r["external_gateway_info"];
    assert_eq!(
        (gw["network_id"].as_str(), gw["enable_snat"].as_bool()),
        (Some(pub_id.as_str()), Some(true)),
        "{r}"
    );
    let ext_ip = gw["external_fixed_ips"][0]["ip_address"].as_str().unwrap();
    assert!(ext_ip.starts_with("203.0.113."), "{r}");
    let (s, e) = alpha
        .post("/v2.0/routers", json!({"router": {"external_gateway_info": {"network_id": pub_id, "enable_snat": false}}}))
        .await;
    assert_eq!(s, 403, "SNAT is the admin's to turn off: {e}");
    let (s, e) = alpha
        .post(
            "/v2.0/routers",
            json!({"router": {"external_gateway_info": {"network_id": id(&net)}}}),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    assert!(
        message(&e).contains("is not a valid external network"),
        "{e}"
    );
    let (s, _) = beta.get(&format!("/v2.0/routers/{rid}")).await;
    assert_eq!(s, 404);

    // Interfaces: the subnet's gateway address; once per subnet; no
    // overlap; a subnet without gateway refused.
    let put = |path: &str, body: Value| {
        let path = format!("/v2.0/routers/{rid}/{path}");
        let alpha = &alpha;
        async move { alpha.put(&path, body).await }
    };
    let (s, i) = put("add_router_interface", json!({"subnet_id": sid})).await;
    assert_eq!(s, 200, "{i}");
    assert_eq!(
        (i["id"].as_str(), i["subnet_id"].as_str()),
        (Some(rid.as_str()), Some(sid.as_str()))
    );
    let iface = i["port_id"].as_str().unwrap().to_owned();
    let (_, p) = alpha.get(&format!("/v2.0/ports/{iface}")).await;
    assert_eq!(p["port"]["fixed_ips"][0]["ip_address"], "10.90.0.1", "{p}");
    assert_eq!(p["port"]["device_owner"], "network:router_interface");
    assert_eq!(p["port"]["device_id"], rid.as_str());
    let (s, e) = put("add_router_interface", json!({"subnet_id": sid})).await;
    assert_eq!(s, 400, "{e}");
    assert!(message(&e).contains("already has a port on subnet"), "{e}");
    let other = alpha.create("network", json!({"name": "other"})).await;
    let over = alpha
        .create(
            "subnet",
            json!({"network_id": id(&other), "ip_version": 4, "cidr": "10.90.0.0/25"}),
        )
        .await;
    let (s, e) = put("add_router_interface", json!({"subnet_id": id(&over)})).await;
    assert_eq!(s, 400, "{e}");
    assert!(message(&e).contains("overlaps with cidr"), "{e}");
    let nogw = alpha
        .create("subnet", json!({"network_id": id(&other), "ip_version": 4, "cidr": "10.91.0.0/24", "gateway_ip": null}))
        .await;
    let (s, e) = put("add_router_interface", json!({"subnet_id": id(&nogw)})).await;
    assert_eq!(s, 400, "{e}");
    assert!(message(&e).contains("must have a gateway IP"), "{e}");
    // Router-owned ports and the subnet stay while the interface does.
    let (s, e) = alpha.delete_answer(&format!("/v2.0/ports/{iface}")).await;
    assert_eq!((s, err_type(&e)), (409, "ServicePortInUse"), "{e}");
    let (s, e) = alpha.delete_answer(&format!("/v2.0/subnets/{sid}")).await;
    assert_eq!((s, err_type(&e)), (409, "SubnetInUse"), "{e}");
    let (s, e) = alpha.delete_answer(&format!("/v2.0/routers/{rid}")).await;
    assert_eq!((s, err_type(&e)), (409, "RouterInUse"), "{e}");

    // Floating IPs: mapped to a port's address through the router.
    let vm = alpha.create("port", json!({"network_id": id(&net)})).await;
    let fixed = vm["fixed_ips"][0]["ip_address"]
        .as_str()
        .unwrap()
        .to_owned();
    let fip = alpha
        .create(
            "floatingip",
            json!({"floating_network_id": pub_id, "port_id": id(&vm)}),
        )
        .await;
    assert_eq!(
        (fip["router_id"].as_str(), fip["fixed_ip_address"].as_str()),
        (Some(rid.as_str()), Some(fixed.as_str())),
        "{fip}"
    );
    assert!(
        fip["floating_ip_address"]
            .as_str()
            .unwrap()
            .starts_with("203.0.113.")
    );
    assert_ne!(fip["floating_ip_address"].as_str(), Some(ext_ip));
    let (s, e) = alpha
        .post(
            "/v2.0/floatingips",
            json!({"floatingip": {"floating_network_id": pub_id, "port_id": id(&vm)}}),
        )
        .await;
    assert_eq!(
        (s, err_type(&e)),
        (409, "FloatingIPPortAlreadyAssociated"),
        "{e}"
    );
    let stray = alpha
        .create(
            "port",
            json!({"network_id": id(&other), "fixed_ips": [{"subnet_id": id(&nogw)}]}),
        )
        .await;
    let (s, e) = alpha
        .post(
            "/v2.0/floatingips",
            json!({"floatingip": {"floating_network_id": pub_id, "port_id": id(&stray)}}),
        )
        .await;
    assert_eq!(s, 404, "no router reaches that subnet: {e}");
    let (s, e) = alpha
        .post("/v2.0/floatingips", json!({"floatingip": {"floating_network_id": pub_id, "floating_ip_address": "203.0.113.77"}}))
        .await;
    assert_eq!(s, 403, "choosing the address is the admin's: {e}");
    // What floating IPs route through stays.
    let (s, e) = put("remove_router_interface", json!({"subnet_id": sid})).await;
    assert_eq!(
        (s, err_type(&e)),
        (409, "RouterInterfaceInUseByFloatingIP"),
        "{e}"
    );
    let (s, e) = alpha
        .put(
            &format!("/v2.0/routers/{rid}"),
            json!({"router": {"external_gateway_info": null}}),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    // Disassociate, then everything comes apart.
    let fid = id(&fip);
    let (s, f) = alpha
        .put(
            &format!("/v2.0/floatingips/{fid}"),
            json!({"floatingip": {"port_id": null}}),
        )
        .await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(
        (
            f["floatingip"]["router_id"].clone(),
            f["floatingip"]["port_id"].clone()
        ),
        (Value::Null, Value::Null)
    );
    let (s, f) = alpha
        .put(
            &format!("/v2.0/floatingips/{fid}"),
            json!({"floatingip": {"port_id": id(&vm)}}),
        )
        .await;
    assert_eq!(s, 200, "{f}");
    // Deleting the port leaves the floating IP, unassociated.
    assert_eq!(alpha.delete(&format!("/v2.0/ports/{}", id(&vm))).await, 204);
    let (_, f) = alpha.get(&format!("/v2.0/floatingips/{fid}")).await;
    assert_eq!(f["floatingip"]["port_id"], Value::Null, "{f}");
    let (s, i) = put("remove_router_interface", json!({"subnet_id": sid})).await;
    assert_eq!(s, 200, "{i}");
    assert_eq!(i["port_id"].as_str(), Some(iface.as_str()));
    let (s, _) = alpha.get(&format!("/v2.0/ports/{iface}")).await;
    assert_eq!(s, 404, "the interface's port goes with it");
    assert_eq!(alpha.delete(&format!("/v2.0/floatingips/{fid}")).await, 204);
    assert_eq!(alpha.delete(&format!("/v2.0/routers/{rid}")).await, 204);
    // The external addresses are free again.
    let (_, left) = admin.get(&format!("/v2.0/ports?network_id={pub_id}")).await;
    assert!(left["ports"].as_array().unwrap().is_empty(), "{left}");
}
