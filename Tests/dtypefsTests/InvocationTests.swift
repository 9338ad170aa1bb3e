import Passthrough
import Testing
@testable import dtypefs

@Suite struct InvocationTests {
    func mount(_ arguments: String...) throws -> MountRequest {
        guard case let .mount(request) = try Invocation.parse(arguments) else {
            Issue.record("not a mount invocation")
            return MountRequest(source: "", mountpoint: "")
        }
        return request
    }

    func usageError(_ arguments: String...) -> String? {
        do {
            _ = try Invocation.parse(arguments)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func defaults() throws {
        let request = try mount("/src", "/mnt")
        #expect(request.source == "/src" && request.mountpoint == "/mnt")
        #expect(!request.foreground && !request.debug)
        #expect(request.options.passthrough.dtype == .verify)
        #expect(request.options.allowOther == nil)
        #expect(request.options.passthrough.entryTimeout == 1 && request.options.passthrough.attrTimeout == 1 && request.options.passthrough.negativeTimeout == 1)
    }

    @Test func whatMountFuse3Passes() throws {
        // mount(8) → mount.fuse3 → `dtypefs SOURCE MOUNTPOINT -o rw,relatime,dev,suid,...`
        let request = try mount("/src", "/mnt", "-o", "rw,relatime,dev,suid,exec,atime,defaults,nofail,_netdev,x-systemd.automount,dtype=unknown")
        #expect(request.options.passthrough.dtype == .unknown)
        #expect(request.options.mountFlags == ["dev", "suid", "exec", "atime"])
        #expect(!request.options.readOnly)
    }

    @Test func flagsLibfuseCannotPassAreSetAfterMountingAndRemountIsRecognised() throws {
        let request = try mount("/src", "/mnt", "-o", "nodiratime,noatime,dtype=unknown")
        #expect(request.options.mountPointFlags == ["nodiratime", "noatime"])
        #expect(request.options.mountFlags == ["noatime"])
        // What mount(8) hands mount.fuse3 for `mount -o remount,nodiratime MNT`.
        let remount = try mount("/src", "/mnt", "-o", "rw,nosuid,nodev,relatime,remount,nodiratime,user_id=0,group_id=0,default_permissions,allow_other")
        #expect(remount.options.remount)
        #expect(remount.options.mountPointFlags == ["rw", "nosuid", "nodev", "relatime", "nodiratime"])
        #expect(remount.options.daemonOptionKeys.isEmpty)
        #expect(usageError("/src", "/mnt", "-o", "user_id=0") == "option 'user_id' is set by libfuse itself and cannot be given")
        #expect(usageError("/src", "/mnt", "-o", "lazytime")?.contains("lazytime") == true)
    }

    @Test func optionsAnywhereAndJoined() throws {
        let request = try mount("-f", "-odtype=passthrough,ro", "/src", "-o", "attr_timeout=0.5,entry_timeout=0", "/mnt", "-o", "noallow_other,max_threads=4,fsname=//server/share")
        #expect(request.foreground)
        #expect(request.options.passthrough.dtype == .passthrough)
        #expect(request.options.readOnly)
        #expect(request.options.passthrough.attrTimeout == 0.5 && request.options.passthrough.entryTimeout == 0)
        #expect(request.options.allowOther == false)
        #expect(request.options.maxThreads == 4)
        #expect(request.options.fsname == "//server/share")
    }

    @Test func tuningOptions() throws {
        let request = try mount("/a", "/b", "-o", "readdirplus=never,verify_threads=1,readahead_listings=0")
        #expect(request.options.passthrough.readdirplus == .never)
        #expect(request.options.passthrough.verifyThreads == 1)
        #expect(request.options.passthrough.readaheadListings == 0)
        #expect(try mount("/a", "/b").options.passthrough.readaheadListings == 8)
        #expect(usageError("/a", "/b", "-o", "readahead_listings=65")?.contains("readahead_listings") == true)
        #expect(usageError("/a", "/b", "-o", "readahead_listings")?.contains("readahead_listings") == true)
        #expect(usageError("/a", "/b", "-o", "readdirplus=sometimes")?.contains("readdirplus") == true)
        #expect(usageError("/a", "/b", "-o", "verify_threads=0")?.contains("verify_threads") == true)
    }

    @Test func debugImpliesForeground() throws {
        #expect(try mount("-d", "/a", "/b").foreground)
    }

    @Test func badInputNamesTheProblem() {
        #expect(usageError()?.contains("missing SOURCE") == true)
        #expect(usageError("/src")?.contains("missing MOUNTPOINT") == true)
        #expect(usageError("/a", "/b", "/c")?.contains("'/c'") == true)
        #expect(usageError("/a", "/b", "-o", "dtype=sometimes")?.contains("sometimes") == true)
        #expect(usageError("/a", "/b", "-o", "attr_timeout=-3")?.contains("attr_timeout") == true)
        #expect(usageError("/a", "/b", "-o", "negative_timeout=nan")?.contains("negative_timeout") == true)
        #expect(usageError("/a", "/b", "-o", "max_threads=0")?.contains("max_threads") == true)
        #expect(usageError("/a", "/b", "-o", "frobnicate")?.contains("frobnicate") == true)
        #expect(usageError("/a", "/b", "-o", "ro=yes")?.contains("ro") == true)
        #expect(usageError("/a", "/b", "-o", "lazytime")?.contains("lazytime") == true)
        #expect(usageError("/a", "/b", "--bogus")?.contains("--bogus") == true)
        #expect(usageError("/a", "/b", "-o")?.contains("-o") == true)
    }

    @Test func helpVersionAndCheck() throws {
        #expect(try Invocation.parse(["--help"]) == .help)
        #expect(try Invocation.parse(["/a", "-V"]) == .version)
        #expect(try Invocation.parse(["check", "-r", "/x"]) == .check(arguments: ["-r", "/x"]))
    }

    @Test func escapedCommasStayInValues() {
        #expect(MountOptions.split("fsname=a\\,b,ro") == ["fsname=a,b", "ro"])
    }
}
