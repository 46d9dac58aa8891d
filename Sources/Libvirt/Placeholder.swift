import CLibvirt
