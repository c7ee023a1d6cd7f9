//! Discovery against fake hosts written as directory trees, and against
//! this machine for what only system calls know.

use std::fs;
use std::path::Path;

use super::*;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn pci(root: &Path, addr: &str, class: &str, vendor: &str, device: &str, numa: &str) {
    let d = format!("bus/pci/devices/{addr}");
    write(root, &format!("{d}/class"), &format!("{class}\n"));
    write(root, &format!("{d}/vendor"), &format!("{vendor}\n"));
    write(root, &format!("{d}/device"), &format!("{device}\n"));
    write(root, &format!("{d}/numa_node"), &format!("{numa}\n"));
}

/// A two-socket x86 server with two NUMA nodes, an NVIDIA GPU, a Xilinx
/// FPGA, an inference card, and the BMC's ASPEED VGA adapter.
fn x86_server(dir: &Path) -> Roots {
    let (proc, sys) = (dir.join("proc"), dir.join("sys"));
    let mut cpuinfo = String::new();
    for n in 0..4 {
        cpuinfo.push_str(&format!(
            "processor\t: {n}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6230\n\
             flags\t\t: fpu sse2 avx avx2 aes vmx made_up_flag\n\n"
        ));
        write(
            &sys,
            &format!("devices/system/cpu/cpu{n}/topology/physical_package_id"),
            &format!("{}\n", n / 2),
        );
    }
    write(&proc, "cpuinfo", &cpuinfo);
    write(
        &proc,
        "meminfo",
        "MemTotal:       16384000 kB\nMemFree: 1 kB\n",
    );
    write(&proc, "sys/kernel/hostname", "edge-1\n");
    write(&sys, "devices/system/cpu/online", "0-3\n");
    write(&sys, "devices/system/node/node0/cpulist", "0-1\n");
    write(
        &sys,
        "devices/system/node/node0/meminfo",
        "Node 0 MemTotal:  8192000 kB\n",
    );
    write(&sys, "devices/system/node/node1/cpulist", "2-3\n");
    write(
        &sys,
        "devices/system/node/node1/meminfo",
        "Node 1 MemTotal:  8192000 kB\n",
    );
    write(&sys, "devices/system/node/possible", "0-1\n");
    pci(&sys, "0000:3b:00.0", "0x030200", "0x10de", "0x20b5", "0");
    pci(&sys, "0000:af:00.0", "0x120000", "0x10ee", "0x5000", "1");
    pci(&sys, "0000:d8:00.0", "0x120000", "0x1e3e", "0x0001", "-1");
    pci(&sys, "0000:03:00.0", "0x030000", "0x1a03", "0x2000", "0");
    pci(&sys, "0000:00:1f.2", "0x010601", "0x8086", "0xa182", "0");
    Roots { proc, sys }
}

#[test]
fn an_x86_server_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let roots = x86_server(dir.path());
    let host = discover(&roots, dir.path()).unwrap();
    assert_eq!(host.hostname, "edge-1");
    assert_eq!(host.arch, "x86_64");
    assert_eq!(host.cpu.model, "Intel(R) Xeon(R) Gold 6230");
    assert_eq!((host.cpu.count, host.cpu.sockets), (4, 2));
    assert!(host.cpu.flags.contains("avx2"));
    assert_eq!(host.memory_mb, 16000);
    assert_eq!(host.numa.len(), 2);
    assert_eq!(host.numa[1].cpus, vec![2, 3]);
    assert_eq!(host.numa[1].memory_mb, 8000);
    let kinds: Vec<_> = host
        .accelerators
        .iter()
        .map(|a| (a.address.as_str(), a.kind, a.numa_node))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("0000:3b:00.0", AcceleratorKind::Gpu, Some(0)),
            ("0000:af:00.0", AcceleratorKind::Fpga, Some(1)),
            ("0000:d8:00.0", AcceleratorKind::Other, None),
        ],
        "the BMC's VGA adapter and the SATA controller are not accelerators"
    );
    assert_eq!(host.accelerators[0].vendor, "10de");
}

#[test]
fn an_arm_gateway_without_numa_or_pci() {
    let dir = tempfile::tempdir().unwrap();
    let (proc, sys) = (dir.path().join("proc"), dir.path().join("sys"));
    write(
        &proc,
        "cpuinfo",
        "processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd aes pmull sha1 sha2 crc32\n\
         CPU implementer\t: 0x41\nCPU part\t: 0xd08\n\nprocessor\t: 1\nFeatures\t: fp asimd\n",
    );
    write(&proc, "meminfo", "MemTotal:        1024000 kB\n");
    let host = discover(&Roots { proc, sys }, dir.path()).unwrap();
    assert_eq!(host.arch, "aarch64");
    assert_eq!(host.cpu.model, "ARM 0xd08");
    assert_eq!((host.cpu.count, host.cpu.sockets), (2, 1));
    assert!(host.cpu.flags.contains("sha2"));
    assert!(host.numa.is_empty() && host.accelerators.is_empty());
    assert_eq!(host.hostname, "localhost");
}

#[test]
fn a_tree_without_cpu_facts_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let roots = Roots {
        proc: dir.path().join("proc"),
        sys: dir.path().join("sys"),
    };
    write(&roots.proc, "cpuinfo", "processor : 0\n");
    let err = discover(&roots, dir.path()).unwrap_err();
    assert!(err.to_string().contains("cpuinfo"), "{err}");
    fs::remove_file(roots.proc.join("cpuinfo")).unwrap();
    let err = discover(&roots, dir.path()).unwrap_err();
    assert!(matches!(err, DiscoveryError::Read { .. }), "{err}");
}

#[test]
fn this_machine_has_a_loopback_with_its_addresses_and_a_disk() {
    let host = discover(&Roots::default(), Path::new("/")).unwrap();
    let lo = host.interfaces.iter().find(|i| i.name == "lo").unwrap();
    assert!(
        lo.addresses.contains(&("127.0.0.1".parse().unwrap(), 8)),
        "{lo:?}"
    );
    assert_eq!(lo.state.as_deref(), Some("unknown"));
    assert!(host.memory_mb > 0 && host.cpu.count > 0 && host.disk_gb > 0);
}

#[test]
fn cpu_lists() {
    assert_eq!(cpu_list("0-3,8,10-11\n"), vec![0, 1, 2, 3, 8, 10, 11]);
    assert_eq!(cpu_list(""), Vec::<u32>::new());
}
