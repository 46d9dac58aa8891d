// The documented default of each choice the definition may leave out.

extension HostDef {
    public var switchKind: SwitchType { switchType ?? .linuxBridge }
}

extension VLANDef {
    public var vlanMode: VLANMode { mode ?? .isolated }
}

extension StandbyPolicyDef {
    public var standbyMode: StandbyMode { mode ?? .hot }
}

extension PlatformDefinition {
    /// The standby policy's mode; hot without a policy.
    public var standbyMode: StandbyMode { standby?.standbyMode ?? .hot }
}
