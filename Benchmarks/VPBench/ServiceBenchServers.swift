import Foundation
import SystemSupport

// What the throughput bench runs on its topology: the tools it needs, nginx backends and HAProxy.
extension ServiceBenchLab {
    struct Tools {
        var wrk: String, nginx: String, haproxy: String, curl: String?
        static func locate() throws -> Tools {
            func find(_ name: String, package: String) throws -> String {
                guard let path = ProgramRunner.locate(name) else { throw BenchError("\(name) is not installed (Debian package '\(package)'); the service-throughput bench needs it") }
                return path
            }
            return Tools(wrk: try find("wrk", package: "wrk"), nginx: try find("nginx", package: "nginx"),
                         haproxy: try find("haproxy", package: "haproxy"), curl: ProgramRunner.locate("curl"))
        }
    }

    func nginxConfig(name: String) -> String {
        let d = Self.directory.path
        return """
            worker_processes 1;
            daemon off;
            pid \(d)/nginx-\(name).pid;
            error_log \(d)/nginx-\(name).error.log warn;
            events { worker_connections 8192; }
            http {
                access_log off;
                keepalive_requests 1000000;
                keepalive_timeout 300s;
                client_body_temp_path \(d)/nginx-\(name)-body;
                proxy_temp_path \(d)/nginx-\(name)-proxy;
                fastcgi_temp_path \(d)/nginx-\(name)-fastcgi;
                uwsgi_temp_path \(d)/nginx-\(name)-uwsgi;
                scgi_temp_path \(d)/nginx-\(name)-scgi;
                server {
                    listen 80;
                    location / { default_type text/plain; return 200 "\(name)\\n"; }
                }
            }

            """
    }

    func haproxyConfig() -> String {
        var c = """
            global
                nbthread 1
                maxconn 8000
            defaults
                mode tcp
                timeout connect 5s
                timeout client 60s
                timeout server 60s
            frontend bench
                bind \(Self.haproxyAddress)
                maxconn 8000
                default_backend backends
            backend backends
                balance source

            """
        for (name, address) in zip(backendNames, backendAddresses) { c += "    server \(name) \(address):80 maxconn 8000\n" }
        return c
    }
}
