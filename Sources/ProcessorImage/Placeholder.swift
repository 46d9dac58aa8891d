public enum ProcessorImagePlaceholder {}
