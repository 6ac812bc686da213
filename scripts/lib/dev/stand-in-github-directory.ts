import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { GITHUB_LOGIN_PATTERN } from '../../../src/validation/github-identity.ts';

/**
 * Who exists at the stand-in GitHub and who belongs where: people (a login on a stable id, so a
 * rename keeps the id), organization and team memberships (active or pending), and outages of its
 * REST API. One instance per stand-in; its page, its control routes and the Node API all edit it.
 */

export type MembershipState = 'active' | 'pending';
/** GitHub's org membership roles; a billing manager manages billing and is no member of the org. */
export type OrgRole = 'member' | 'admin' | 'billing_manager';
export type TeamRole = 'member' | 'maintainer';

export interface MembershipChange {
  org: string;
  /** A team's slug inside `org`; without it, the organization membership. */
  team?: string;
  login: string;
  state?: MembershipState;
  role?: OrgRole | TeamRole;
  /** Organization memberships only: shown publicly (GET /orgs/{org}/public_members/{username}). */
  public?: boolean;
}

/** GitHub's REST API failing for a while: an HTTP status (5xx), or no answer at all. */
export interface Outage {
  /** 500, 502, 503 (default) or 504; ignored with `timeout`. */
  status?: number;
  /** No answer: the connection is held, then dropped when the outage ends. */
  timeout?: boolean;
  /** How long; without it, until `endOutage()` with the same scope (or none). */
  forMs?: number;
  /** Only requests by this person (their token) or about them (a path naming them). */
  login?: string;
  /** Only requests naming this organization. */
  org?: string;
}

/** The file given at start (GITHUB_STAND_IN_MEMBERSHIPS): people, then memberships. */
export interface MembershipsFile {
  users?: string[];
  memberships?: MembershipChange[];
}

export interface StandInUser {
  id: number;
  login: string;
}

export interface RunningOutage extends Outage {
  until: number | null;
  /** The requests a timeout outage holds, each dropped when it ends. */
  held: Set<() => void>;
}

interface OrgMembership {
  userId: number;
  state: MembershipState;
  role: OrgRole;
  public: boolean;
}

interface TeamMembership {
  userId: number;
  state: MembershipState;
  role: TeamRole;
}

interface Org {
  login: string;
  id: number;
  members: Map<number, OrgMembership>;
  teams: Map<string, { slug: string; id: number; members: Map<number, TeamMembership> }>;
}

const SLUG_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,99}$/i;

/** The same id for the same name every time, like a real account. */
export function stableId(name: string): number {
  return Number.parseInt(createHash('sha256').update(name.toLowerCase()).digest('hex').slice(0, 8), 16);
}

export class StandInDirectory {
  private readonly users = new Map<number, StandInUser>();
  private readonly byLogin = new Map<string, number>();
  private readonly orgs = new Map<string, Org>();
  private readonly outages: RunningOutage[] = [];

  /** The person carrying this login now, or undefined (never existed, or renamed away). */
  findUser(login: string): StandInUser | undefined {
    const id = this.byLogin.get(login.toLowerCase());
    return id === undefined ? undefined : this.users.get(id);
  }

  userById(id: number): StandInUser | undefined {
    return this.users.get(id);
  }

  /**
   * The person carrying this login, created if nobody does (signing in at the picker is signing
   * up). A new person gets the login's stable id unless a renamed person already holds it.
   */
  ensureUser(login: string): StandInUser {
    assertLogin(login);
    const found = this.findUser(login);
    if (found) return found;
    let id = stableId(login);
    while (this.users.has(id)) id += 1;
    const user = { id, login };
    this.users.set(id, user);
    this.byLogin.set(login.toLowerCase(), id);
    return user;
  }

  /** A rename, as on GitHub: same id, new login; the old login is free for anyone to take. */
  renameUser(from: string, to: string): StandInUser {
    assertLogin(from);
    assertLogin(to);
    const user = this.findUser(from);
    if (!user) throw new StandInInputError(`No stand-in user has the login "${from}".`);
    const holder = this.findUser(to);
    if (holder && holder.id !== user.id) throw new StandInInputError(`The login "${to}" is taken.`);
    this.byLogin.delete(user.login.toLowerCase());
    user.login = to;
    this.byLogin.set(to.toLowerCase(), user.id);
    return user;
  }

  /** Adds a membership, or changes its state or role. A team membership implies one in the org. */
  setMembership(change: MembershipChange): void {
    const state = change.state ?? 'active';
    if (state !== 'active' && state !== 'pending') throw new StandInInputError('state is "active" or "pending".');
    if (change.team !== undefined && !SLUG_PATTERN.test(change.team)) {
      throw new StandInInputError(`"${change.team}" is not a team slug.`);
    }
    const user = this.ensureUser(change.login);
    const org = this.ensureOrg(change.org);
    if (change.team === undefined) {
      const role = (change.role ?? org.members.get(user.id)?.role ?? 'member') as OrgRole;
      if (role !== 'member' && role !== 'admin' && role !== 'billing_manager') {
        throw new StandInInputError('An org role is "member", "admin" or "billing_manager".');
      }
      const known = org.members.get(user.id);
      org.members.set(user.id, { userId: user.id, state, role, public: change.public ?? known?.public ?? false });
      return;
    }
    const role = (change.role ?? 'member') as TeamRole;
    if (role !== 'member' && role !== 'maintainer') {
      throw new StandInInputError('A team role is "member" or "maintainer".');
    }
    // As on GitHub: adding an outsider to a team invites them to the org too.
    if (!org.members.has(user.id)) org.members.set(user.id, { userId: user.id, state, role: 'member', public: false });
    const slug = change.team.toLowerCase();
    let team = org.teams.get(slug);
    if (!team) {
      team = { slug, id: stableId(`${org.login}/${slug}`), members: new Map() };
      org.teams.set(slug, team);
    }
    team.members.set(user.id, { userId: user.id, state, role });
  }

  /** Removes a membership; leaving an org leaves its teams, as on GitHub. False if there was none. */
  removeMembership(change: Pick<MembershipChange, 'org' | 'team' | 'login'>): boolean {
    assertLogin(change.login);
    if (typeof change.org !== 'string') throw new StandInInputError('Name the org.');
    const user = this.findUser(change.login);
    const org = this.orgs.get(change.org.toLowerCase());
    if (!user || !org) return false;
    if (change.team === undefined) {
      for (const team of org.teams.values()) team.members.delete(user.id);
      return org.members.delete(user.id);
    }
    return org.teams.get(change.team.toLowerCase())?.members.delete(user.id) ?? false;
  }

  orgOf(name: string): { login: string; id: number } | undefined {
    const org = this.orgs.get(name.toLowerCase());
    return org ? { login: org.login, id: org.id } : undefined;
  }

  orgMembership(orgName: string, userId: number): OrgMembership | undefined {
    return this.orgs.get(orgName.toLowerCase())?.members.get(userId);
  }

  team(orgName: string, slug: string): { slug: string; id: number } | undefined {
    return this.orgs.get(orgName.toLowerCase())?.teams.get(slug.toLowerCase());
  }

  teamMembership(orgName: string, slug: string, userId: number): TeamMembership | undefined {
    return this.orgs.get(orgName.toLowerCase())?.teams.get(slug.toLowerCase())?.members.get(userId);
  }

  /** Every membership, for the page: org ones first, then each team's. */
  listMemberships(): Array<Required<Omit<MembershipChange, 'team' | 'public'>> & { team?: string }> {
    const rows: Array<Required<Omit<MembershipChange, 'team' | 'public'>> & { team?: string }> = [];
    for (const org of this.orgs.values()) {
      for (const m of org.members.values()) {
        const login = this.users.get(m.userId)?.login ?? String(m.userId);
        rows.push({ org: org.login, login, state: m.state, role: m.role });
      }
      for (const team of org.teams.values()) {
        for (const m of team.members.values()) {
          const login = this.users.get(m.userId)?.login ?? String(m.userId);
          rows.push({ org: org.login, team: team.slug, login, state: m.state, role: m.role });
        }
      }
    }
    return rows;
  }

  /** People and memberships from a JSON file (MembershipsFile); a bad file stops the start. */
  load(file: MembershipsFile, source: string): void {
    if (typeof file !== 'object' || file === null) throw new StandInInputError(`${source}: not a JSON object.`);
    try {
      for (const login of file.users ?? []) this.ensureUser(login);
      for (const change of file.memberships ?? []) this.setMembership(change);
    } catch (error) {
      throw new StandInInputError(`${source}: ${(error as Error).message}`);
    }
  }

  loadFile(filePath: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(filePath, 'utf8'));
    } catch (error) {
      throw new StandInInputError(`${filePath}: cannot read its JSON (${(error as Error).message}).`);
    }
    this.load(parsed as MembershipsFile, filePath);
  }

  /**
   * Starts an outage. Several may run at once (test files share one stand-in, each scoped to its
   * own people or orgs); a new one with the same scope replaces the old.
   */
  startOutage(outage: Outage): void {
    const status = outage.status ?? 503;
    if (!outage.timeout && (status < 500 || status > 599)) throw new StandInInputError('An outage status is 5xx.');
    this.endOutage({ login: outage.login, org: outage.org });
    const running: RunningOutage = {
      ...outage,
      status,
      until: outage.forMs === undefined ? null : Date.now() + outage.forMs,
      held: new Set(),
    };
    this.outages.push(running);
    if (running.until !== null) setTimeout(() => this.stop(running), outage.forMs).unref();
  }

  /** Ends the outages with exactly this scope; without one, every outage. Held requests are dropped. */
  endOutage(scope?: Pick<Outage, 'login' | 'org'>): void {
    const sameScope = (outage: RunningOutage) =>
      !scope || (lower(outage.login) === lower(scope.login) && lower(outage.org) === lower(scope.org));
    for (const outage of this.outages.filter(sameScope)) this.stop(outage);
  }

  /** The outage a REST API request falls in, if any (by the person asking, or the org or login named). */
  outageFor(request: { login?: string; pathLogin?: string; org?: string }): RunningOutage | null {
    const now = Date.now();
    const same = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();
    return (
      this.outages.find(
        (outage) =>
          (outage.until === null || outage.until > now) &&
          (outage.login === undefined || same(request.login, outage.login) || same(request.pathLogin, outage.login)) &&
          (outage.org === undefined || same(request.org, outage.org)),
      ) ?? null
    );
  }

  /** Holds a request in a timeout outage: `drop` runs when that outage ends. */
  hold(outage: RunningOutage, drop: () => void): void {
    if (this.outages.includes(outage)) outage.held.add(drop);
    else drop();
  }

  private stop(outage: RunningOutage): void {
    const index = this.outages.indexOf(outage);
    if (index === -1) return;
    this.outages.splice(index, 1);
    for (const drop of outage.held) drop();
    outage.held.clear();
  }

  private ensureOrg(name: string): Org {
    if (!SLUG_PATTERN.test(name)) throw new StandInInputError(`"${name}" is not an organization name.`);
    let org = this.orgs.get(name.toLowerCase());
    if (!org) {
      org = { login: name, id: stableId(`org:${name}`), members: new Map(), teams: new Map() };
      this.orgs.set(name.toLowerCase(), org);
    }
    return org;
  }
}

/** A request to the stand-in's page, control routes or Node API that it cannot carry out. */
export class StandInInputError extends GatewayError<'stand_in_input'> {
  constructor(message: string) {
    super('stand_in_input', 'input', message);
  }
}

function lower(value: string | undefined): string | undefined {
  return value?.toLowerCase();
}

function assertLogin(login: unknown): asserts login is string {
  if (typeof login !== 'string' || !GITHUB_LOGIN_PATTERN.test(login)) {
    throw new StandInInputError(`"${String(login)}" is not a GitHub login.`);
  }
}
