/**
 * The audit-log event types, in the order of `components.schemas.AuditLogEventType` in
 * simulators/openai/reference/admin-openapi-subset.json (145 values; the enum grows often, so
 * ingesters must keep unknown types). A test compares this list with the reference.
 */
export const AUDIT_LOG_EVENT_TYPES: readonly string[] = `
api_key.created api_key.updated api_key.deleted certificate.created certificate.updated
certificate.deleted certificates.activated certificates.deactivated checkpoint.permission.created
checkpoint.permission.deleted external_key.registered external_key.removed group.created
group.updated group.deleted invite.sent invite.accepted invite.deleted ip_allowlist.created
ip_allowlist.updated ip_allowlist.deleted ip_allowlist.config.activated
ip_allowlist.config.deactivated login.succeeded login.failed logout.succeeded logout.failed
organization.updated project.created project.updated project.archived project.deleted
rate_limit.updated rate_limit.deleted resource.deleted tunnel.created tunnel.updated tunnel.deleted
workload_identity_provider.created workload_identity_provider.updated
workload_identity_provider.deleted workload_identity_provider_mapping.created
workload_identity_provider_mapping.updated workload_identity_provider_mapping.deleted role.created
role.updated role.deleted role.assignment.created role.assignment.deleted role.bound_to_resource
role.unbound_from_resource scim.enabled scim.disabled service_account.created
service_account.updated service_account.deleted user.added user.updated user.deleted
tenant.metadata.updated tenant.microsoft_entra_mapping.upserted
tenant.microsoft_entra_mapping.deleted tenant.workload_identity.provider.created
tenant.workload_identity.provider.updated tenant.workload_identity.provider.archived
tenant.workload_identity.mapping.created tenant.workload_identity.mapping.updated
tenant.workload_identity.mapping.archived tenant.workload_identity.binding.created
tenant.workload_identity.principal.provisioned tenant.workload_identity.access_token.issued
tenant.admin_api_key.created tenant.admin_api_key.updated tenant.admin_api_key.deleted
tenant.project_api_key.created tenant.chatgpt_access_token.revoked tenant.migration.completed
tenant.sso.migrated tenant.domains.migrated tenant.sso_connection.created
tenant.sso_connection.updated tenant.sso_connection.deleted tenant.sso_connection.setup.started
tenant.policy.created tenant.policy.updated tenant.policy.deleted tenant.policy.attached
tenant.policy.detached tenant.principal_authentication_policy.resolved tenant.scim.setup.started
tenant.scim.deletion.requested tenant.scim.directory.created tenant.product_access_policy.updated
tenant.resource_share_grant.created tenant.resource_share_grant.updated
tenant.resource_share_grant.accepted tenant.resource_share_grant.declined
tenant.resource_share_grant.revoked tenant.resource_share_grant.deleted
tenant.service_account.updated tenant.service_account.deleted tenant.service_account.token.revoked
tenant.billing.overage_limit.updated tenant.billing.alerts.updated tenant.billing.info.updated
tenant.usage_limit.workspace.updated tenant.usage_limit.group.updated
tenant.usage_limit.user.updated tenant.usage_limit.increase_request.updated
tenant.usage_limit.increase_request.resolved tenant.group.created tenant.group.updated
tenant.group.deleted tenant.group.member.added tenant.group.member.removed
tenant.migration_rollout.status.updated tenant.migration_rollout.tier.updated
tenant.role.metadata.updated tenant.custom_role.created tenant.custom_role.updated
tenant.custom_role.deleted tenant.role_assignment.created tenant.role_assignment.deleted
tenant.resource_role_assignment.created tenant.resource_role_assignment.deleted
tenant.resource_access.updated tenant.resource_access.deleted
tenant.ads_account.onboarding.redemption tenant.session_policy.created tenant.session_policy.updated
tenant.session_policy.deleted tenant.session_revocation.started
tenant.third_party_app_policy.updated tenant.user.added tenant.user.updated tenant.user.removed
tenant.user.looked_up tenant.user.invited tenant.membership.revoked
tenant.api_organization_invite.upserted tenant.api_organization_invite.deleted
tenant.chatgpt_workspace_invite.upserted tenant.membership.accepted tenant.membership.declined
tenant.workspace_invite_email_settings.updated
`
  .trim()
  .split(/\s+/);

/** Tenant-scoped types: the `tenant.*` family and the two the spec names for `tenant_only`. */
export function isTenantScoped(type: string): boolean {
  return (
    type.startsWith("tenant.") || type === "role.bound_to_resource" || type === "role.unbound_from_resource"
  );
}
