import Testing
@testable import dtypefs

@Suite struct MountPreflightTests {
    let table = MountTable.parse("""
        30 1 8:1 / / rw,relatime - ext4 /dev/vda rw
        40 30 0:50 / /mnt/share rw,relatime - cifs //srv/share rw,serverino
        41 30 0:51 / /srv/share rw,nosuid,nodev,relatime - fuse.dtypefs /mnt/share rw,user_id=0
        42 40 0:52 / /mnt/share rw,nosuid,nodev,relatime - fuse.dtypefs /mnt/share rw,user_id=0
        """)

    func check(_ source: String, _ mountpoint: String, require: Bool = false) -> MountPreflight.Verdict {
        MountPreflight.check(source: source, mountpoint: mountpoint, fsname: source, requireMountpoint: require, table: table)
    }

    @Test func aSecondDtypefsOnTheSamePointIsRefused() {
        guard case let .refuse(message) = check("/mnt/share", "/srv/share") else { Issue.record("not refused"); return }
        #expect(message.contains("already a dtypefs mount of '/mnt/share'"))
        // The same-path overlay, mounted twice.
        guard case .refuse = check("/mnt/share", "/mnt/share") else { Issue.record("overlay twice not refused"); return }
    }

    @Test func aSourceThatIsNotAMountPointIsWarnedAboutOrRefused() {
        guard case let .proceed(warnings) = check("/srv/empty", "/srv/view") else { Issue.record("refused"); return }
        #expect(warnings.count == 1 && warnings[0].contains("not a mount point"))
        guard case let .refuse(message) = check("/srv/empty", "/srv/view", require: true) else { Issue.record("not refused"); return }
        #expect(message.contains("require_mountpoint"))
        #expect(check("/mnt/share", "/srv/other", require: true) == .proceed(warnings: []))
    }

    @Test func adminOptionsAndForeignOnesGetOneLineAnswers() throws {
        guard case let .mount(request) = try Invocation.parse(["/s", "/m", "-o", "auto_unmount,require_mountpoint,logfile=/var/log/d.log,nonempty"]) else {
            Issue.record("not a mount")
            return
        }
        #expect(request.options.autoUnmount && request.options.requireMountpoint)
        #expect(request.options.logfile == "/var/log/d.log")
        #expect(request.options.notes.first?.contains("nonempty") == true)
        for (option, answer) in [("uid=1000", "bindfs"), ("umask=022", "bindfs"), ("kernel_cache", "page caching"),
                                 ("logfile=relative.log", "absolute path")] {
            do {
                _ = try Invocation.parse(["/s", "/m", "-o", option])
                Issue.record("\(option) accepted")
            } catch {
                #expect(error.message.contains(answer), "\(option): \(error.message)")
            }
        }
    }
}
