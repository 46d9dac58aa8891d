public enum LibvirtXMLPlaceholder {}
