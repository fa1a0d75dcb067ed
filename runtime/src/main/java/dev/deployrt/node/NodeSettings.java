package dev.deployrt.node;

import com.typesafe.config.Config;
import dev.deployrt.archive.ArchiveLimits;
import dev.deployrt.deployment.DeploymentSettings;
import dev.deployrt.hooks.HookSettings;
import dev.deployrt.peer.DistributionSettings;
import dev.deployrt.upload.UploadSettings;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * This node's settings, read once from the {@code deploy} section.
 *
 * @param orphanSweepInterval how often the node removes what no record keeps: deleted payloads'
 *     blobs, and releases past each project's keep ({@code deploy.storage.orphan-sweep-interval})
 */
public record NodeSettings(
    String nodeName,
    Path dataDir,
    UploadSettings upload,
    ArchiveLimits archiveLimits,
    DeploymentSettings deployment,
    DistributionSettings distribution,
    Duration progressInterval,
    Duration registerWriteTimeout,
    Duration orphanSweepInterval,
    HookSettings hooks) {

  public static NodeSettings fromConfig(Config config) {
    Config deploy = config.getConfig("deploy");
    return new NodeSettings(
        nodeName(deploy.getString("node-name")),
        Path.of(deploy.getString("data-dir")).toAbsolutePath().normalize(),
        UploadSettings.fromConfig(deploy),
        UploadSettings.archiveLimits(deploy),
        DeploymentSettings.fromConfig(deploy),
        DistributionSettings.fromConfig(deploy),
        deploy.getDuration("upload.progress-interval"),
        deploy.getDuration("register.write-timeout"),
        deploy.getDuration("storage.orphan-sweep-interval"),
        HookSettings.fromConfig(deploy));
  }

  /** The configured name, else the host name. */
  public static String nodeName(String configured) {
    if (configured != null && !configured.isBlank()) {
      return configured;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "node";
    }
  }
}
