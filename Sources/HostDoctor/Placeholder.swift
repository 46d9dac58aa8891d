public enum HostDoctorPlaceholder {}
