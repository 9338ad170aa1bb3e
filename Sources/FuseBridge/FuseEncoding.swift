import Glibc
import CFuse
import FuseKit

/// Pure conversions between FuseKit's types and libfuse's C structures.
enum FuseEncoding {
    static func entryParameters(_ entry: Entry) -> fuse_entry_param {
        var parameters = fuse_entry_param()
        parameters.ino = entry.node.rawValue
        parameters.generation = 0  // node IDs are never reused, so one generation suffices
        parameters.attr = entry.attributes.stat
        parameters.attr_timeout = entry.attrTimeout
        parameters.entry_timeout = entry.entryTimeout
        return parameters
    }

    static func fill(_ fileInfo: UnsafeMutablePointer<fuse_file_info>, with open: OpenReply) {
        fileInfo.pointee.fh = open.handle
        cfuse_set_open_flags(fileInfo, open.directIO ? 1 : 0, open.keepCache ? 1 : 0, 0, 0)
    }

    static func statvfs(_ statistics: FileSystemStatistics) -> Glibc.statvfs {
        var status = Glibc.statvfs()
        status.f_bsize = UInt(statistics.blockSize)
        status.f_frsize = UInt(statistics.fragmentSize)
        status.f_blocks = fsblkcnt_t(statistics.blocks)
        status.f_bfree = fsblkcnt_t(statistics.blocksFree)
        status.f_bavail = fsblkcnt_t(statistics.blocksAvailable)
        status.f_files = fsfilcnt_t(statistics.files)
        status.f_ffree = fsfilcnt_t(statistics.filesFree)
        status.f_favail = fsfilcnt_t(statistics.filesAvailable)
        status.f_namemax = UInt(statistics.maximumNameLength)
        return status
    }

    /// setattr's `to_set` bits (FUSE_SET_ATTR_*) and values as the changes they ask for.
    static func attributeChanges(_ status: stat, toSet: Int32) -> AttributeChanges {
        var changes = AttributeChanges()
        if toSet & FUSE_SET_ATTR_MODE != 0 { changes.mode = status.st_mode }
        if toSet & FUSE_SET_ATTR_UID != 0 { changes.uid = status.st_uid }
        if toSet & FUSE_SET_ATTR_GID != 0 { changes.gid = status.st_gid }
        if toSet & FUSE_SET_ATTR_SIZE != 0 { changes.size = Int64(status.st_size) }
        if toSet & FUSE_SET_ATTR_ATIME_NOW != 0 {
            changes.accessTime = .now
        } else if toSet & FUSE_SET_ATTR_ATIME != 0 {
            changes.accessTime = .set(seconds: status.st_atim.tv_sec, nanoseconds: status.st_atim.tv_nsec)
        }
        if toSet & FUSE_SET_ATTR_MTIME_NOW != 0 {
            changes.modificationTime = .now
        } else if toSet & FUSE_SET_ATTR_MTIME != 0 {
            changes.modificationTime = .set(seconds: status.st_mtim.tv_sec, nanoseconds: status.st_mtim.tv_nsec)
        }
        return changes
    }

    static func recordLock(_ description: flock) -> RecordLock {
        RecordLock(type: description.l_type, start: Int64(description.l_start),
                   length: Int64(description.l_len), pid: description.l_pid)
    }
}
