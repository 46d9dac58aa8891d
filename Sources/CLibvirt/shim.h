#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libvirt/libvirt-qemu.h>

/* libvirt's default authentication callbacks, read through a function because Swift 6
   refuses direct references to mutable C globals. */
static inline virConnectAuthPtr vp_default_auth(void) { return virConnectAuthPtrDefault; }
