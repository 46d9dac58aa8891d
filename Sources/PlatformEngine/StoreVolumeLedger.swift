import Reconciler
import StateStore

/// The reconciler's record of created volumes, kept in the platform's state store.
struct StoreVolumeLedger: VolumeLedger {
    let store: any PlatformStore

    func volumes() throws -> Set<VolumeRef> {
        Set(try store.createdVolumes().map { VolumeRef(host: $0.host, pool: $0.pool, volume: $0.name) })
    }
    func created(_ v: VolumeRef) throws { try store.recordCreatedVolume(host: v.host, pool: v.pool, name: v.volume) }
    func deleted(_ v: VolumeRef) throws { try store.forgetVolume(host: v.host, pool: v.pool, name: v.volume) }
}
