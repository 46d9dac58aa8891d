import Foundation
import PlatformModel

/// A valid definition; tests replace one line to break one rule.
let validYAML = """
platform: t
hosts:
  - name: local
    uri: test:///default
processors:
  vcpus: 1
  memoryMiB: 128
  members:
    - { name: t-p1, host: local }
    - { name: t-p2, host: local }
    - { name: t-p3, host: local }
vlans:
  - name: front
    id: 100
    subnet: 10.40.1.0/24
  - name: back
    id: 200
    subnet: 10.40.2.0/24
storage:
  pools:
    - name: t-data
      host: local
      path: /vp-test/t-data
      volumes:
        - { name: v1, capacity: 64MiB }
        - { name: v2, capacity: 64MiB, format: qcow2 }
personalities:
  - name: web
    nics:
      - { vlan: front, ip: 10.40.1.10 }
      - { vlan: back }
    disks:
      - { target: vdb, volume: t-data/v1 }
  - name: db
    nics:
      - { vlan: back, mac: "02:56:50:00:02:20", ip: 10.40.2.20 }
    disks:
      - { target: vdb, volume: t-data/v2 }
standby:
  mode: hot
  count: 1
services:
  - { name: web, address: 10.40.9.1, port: 80, protocol: tcp, members: [web] }
failover:
  heartbeat: { intervalMs: 100, timeoutMs: 40, threshold: 3 }
  classOfService: [back, front]
"""

/// The YAML with every occurrence of `old` replaced by `new` (the test fails if `old` is absent).
func yaml(replacing old: String, with new: String) -> String {
    precondition(validYAML.contains(old), "fixture does not contain \(old)")
    return validYAML.replacingOccurrences(of: old, with: new)
}

func issues(_ text: String) throws -> [ConfigIssue] {
    do {
        return Validator.validate(try PlatformLoader.parse(text, file: "t.yaml"))
    } catch let errors as ConfigErrors {
        return errors.issues
    }
}

func lineOf(_ needle: String, in text: String) -> Int {
    text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(needle) }! + 1
}
