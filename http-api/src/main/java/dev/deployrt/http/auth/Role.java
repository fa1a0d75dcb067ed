package dev.deployrt.http.auth;

import java.util.Locale;

/** API.md roles: admin (everything), deployer (deploy, roll back, read), viewer (read only). */
public enum Role {
  ADMIN,
  DEPLOYER,
  VIEWER;

  public boolean canDeploy() {
    return this == ADMIN || this == DEPLOYER;
  }

  public boolean isAdmin() {
    return this == ADMIN;
  }

  public String apiName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
