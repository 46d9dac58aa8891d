// The validated definition's choices as enums. A missing word is the documented default; a wrong
// one cannot reach these accessors, since `Validator` rejects it (the fallback only keeps them total).

extension HostDef {
    /// nil when not given (then: probe, as `auto`).
    public var domainTypeChoice: DomainTypeChoice? { domainType.flatMap(DomainTypeChoice.init(rawValue:)) }
    public var switchKind: SwitchType { switchType.flatMap(SwitchType.init(rawValue:)) ?? .linuxBridge }
}

extension VLANDef {
    public var vlanMode: VLANMode { mode.flatMap(VLANMode.init(rawValue:)) ?? .isolated }
}

extension StandbyPolicyDef {
    public var standbyMode: StandbyMode { mode.flatMap(StandbyMode.init(rawValue:)) ?? .hot }
}

extension PlatformDefinition {
    /// The standby policy's mode; hot without a policy.
    public var standbyMode: StandbyMode { standby?.standbyMode ?? .hot }
}

extension ServiceIPDef {
    public var transport: ServiceProtocol { ServiceProtocol(rawValue: protocolName) ?? .tcp }
}

extension ServiceHealthCheckDef {
    public var kind: HealthCheckType { HealthCheckType(rawValue: type) ?? .tcp }
}
