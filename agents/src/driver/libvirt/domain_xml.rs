//! The libvirt domain XML of one instance: its vCPUs and memory, its root
//! disk (a qcow2 overlay over the cached image, or for an ISO image the
//! ISO as a CD-ROM beside a blank disk), its config drive, its ports, its serial console
//! appended to a log file, and SMBIOS system data naming the instance so
//! the guest can find out who it is.

use std::fmt::Write;
use std::path::Path;

use virga_protocol::agent::InstanceSpec;

/// Where an instance's files are.
pub struct Files<'a> {
    pub disk: &'a Path,
    /// The ISO, for an instance booting from one.
    pub cdrom: Option<&'a Path>,
    /// The config drive (`config-2`), read-only.
    pub config_drive: Option<&'a Path>,
    pub console: &'a Path,
}

/// `virga-<uuid>`: recognisably ours in `virsh list`.
pub fn domain_name(uuid: &str) -> String {
    format!("virga-{uuid}")
}

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

fn path(p: &Path) -> String {
    escape(&p.display().to_string())
}

/// The domain XML. `domain_type` is `kvm` or `qemu` (TCG); `arch` the host's.
pub fn domain_xml(spec: &InstanceSpec, domain_type: &str, arch: &str, files: &Files) -> String {
    let uuid = escape(&spec.uuid);
    let machine = if arch == "aarch64" { "virt" } else { "pc" };
    let mut x = String::new();
    let _ = writeln!(x, "<domain type='{}'>", escape(domain_type));
    let _ = writeln!(x, "  <name>{}</name>", escape(&domain_name(&spec.uuid)));
    let _ = writeln!(x, "  <uuid>{uuid}</uuid>");
    let _ = writeln!(x, "  <title>{}</title>", escape(&spec.name));
    let _ = writeln!(x, "  <memory unit='MiB'>{}</memory>", spec.memory_mb);
    let _ = writeln!(x, "  <vcpu>{}</vcpu>", spec.vcpus.max(1));
    x.push_str("  <sysinfo type='smbios'>\n    <system>\n");
    x.push_str("      <entry name='manufacturer'>Virga</entry>\n");
    x.push_str("      <entry name='product'>Virga Compute</entry>\n");
    let _ = writeln!(x, "      <entry name='serial'>{uuid}</entry>");
    let _ = writeln!(x, "      <entry name='uuid'>{uuid}</entry>");
    x.push_str("    </system>\n  </sysinfo>\n");
    let _ = writeln!(
        x,
        "  <os>\n    <type arch='{}' machine='{machine}'>hvm</type>",
        escape(arch)
    );
    if files.cdrom.is_some() {
        x.push_str("    <boot dev='cdrom'/>\n");
    }
    x.push_str("    <boot dev='hd'/>\n    <smbios mode='sysinfo'/>\n  </os>\n");
    x.push_str("  <features><acpi/></features>\n");
    // A guest's own power-off ends it (the agent decides what happens
    // next); its reboot restarts it in place.
    x.push_str("  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n");
    x.push_str("  <on_crash>destroy</on_crash>\n  <devices>\n");
    let _ = writeln!(
        x,
        "    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n      \
         <source file='{}'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>",
        path(files.disk)
    );
    if let Some(iso) = files.cdrom {
        let _ = writeln!(
            x,
            "    <disk type='file' device='cdrom'>\n      <driver name='qemu' type='raw'/>\n      \
             <source file='{}'/>\n      <target dev='sda' bus='sata'/>\n      <readonly/>\n    </disk>",
            path(iso)
        );
    }
    if let Some(drive) = files.config_drive {
        let _ = writeln!(
            x,
            "    <disk type='file' device='cdrom'>\n      <driver name='qemu' type='raw'/>\n      \
             <source file='{}'/>\n      <target dev='sdb' bus='sata'/>\n      <readonly/>\n    </disk>",
            path(drive)
        );
    }
    for p in &spec.ports {
        let _ = write!(
            x,
            "    <interface type='{}'>\n      <mac address='{}'/>\n",
            if p.bridge.is_some() { "bridge" } else { "user" },
            escape(&p.mac)
        );
        if let Some(b) = &p.bridge {
            let _ = writeln!(x, "      <source bridge='{}'/>", escape(b));
            // The tap is named after the port (as Nova names it), so the
            // node's security group filter finds it.
            let tap: String = p.id.chars().take(11).collect();
            let _ = writeln!(x, "      <target dev='tap{}'/>", escape(&tap));
        }
        x.push_str("      <model type='virtio'/>\n    </interface>\n");
    }
    let _ = writeln!(
        x,
        "    <serial type='file'>\n      <source path='{}' append='on'/>\n      \
         <target port='0'/>\n    </serial>",
        path(files.console)
    );
    x.push_str("    <memballoon model='none'/>\n  </devices>\n</domain>\n");
    x
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use virga_protocol::agent::{ImageRef, PortSpec};

    use super::*;

    #[test]
    fn describes_the_instance_and_escapes_what_it_must() {
        let spec = InstanceSpec {
            uuid: "0f4c3a4e-0000-4000-8000-000000000001".into(),
            name: "web <prod> & 'co'".into(),
            vcpus: 2,
            memory_mb: 256,
            disk_gb: 1,
            image: ImageRef::held("img", "iso"),
            ports: vec![PortSpec {
                id: "5f0c6c4e-7a0e-4b4e-9a59-6f1c2d3e4f50".into(),
                mac: "fa:16:3e:00:00:01".into(),
                bridge: Some("br-net1".into()),
            }],
            metadata: BTreeMap::new(),
            user_data: None,
            build: 0,
        };
        let files = Files {
            disk: Path::new("/i/disk.qcow2"),
            cdrom: Some(Path::new("/base/img")),
            config_drive: Some(Path::new("/i/disk.config")),
            console: Path::new("/i/console.log"),
        };
        let x = domain_xml(&spec, "qemu", "x86_64", &files);
        assert!(x.starts_with("<domain type='qemu'>"), "{x}");
        assert!(x.contains("<name>virga-0f4c3a4e-0000-4000-8000-000000000001</name>"));
        assert!(
            x.contains("<title>web &lt;prod&gt; &amp; &apos;co&apos;</title>"),
            "{x}"
        );
        assert!(x.contains("<memory unit='MiB'>256</memory>") && x.contains("<vcpu>2</vcpu>"));
        assert!(x.contains("<boot dev='cdrom'/>") && x.contains("device='cdrom'"));
        assert!(x.contains("<source bridge='br-net1'/>") && x.contains("fa:16:3e:00:00:01"));
        assert!(x.contains("<target dev='tap5f0c6c4e-7a'/>"), "{x}");
        assert!(x.contains("<source path='/i/console.log' append='on'/>"));
        assert!(x.contains("machine='pc'"));
        assert!(
            x.contains("<source file='/i/disk.config'/>\n      <target dev='sdb' bus='sata'/>"),
            "{x}"
        );
    }
}
