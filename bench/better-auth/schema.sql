-- The tables of schema.ts (better-auth's, for the bench's peer comparison only).
create table "user" (
  id text primary key,
  name text not null,
  email text not null unique,
  email_verified boolean not null default false,
  image text,
  created_at timestamp not null default now(),
  updated_at timestamp not null default now()
);
create table session (
  id text primary key,
  expires_at timestamp not null,
  token text not null unique,
  created_at timestamp not null default now(),
  updated_at timestamp not null,
  ip_address text,
  user_agent text,
  user_id text not null references "user"(id) on delete cascade
);
create table account (
  id text primary key,
  account_id text not null,
  provider_id text not null,
  user_id text not null references "user"(id) on delete cascade,
  access_token text,
  refresh_token text,
  id_token text,
  access_token_expires_at timestamp,
  refresh_token_expires_at timestamp,
  scope text,
  password text,
  created_at timestamp not null default now(),
  updated_at timestamp not null
);
create table verification (
  id text primary key,
  identifier text not null,
  value text not null,
  expires_at timestamp not null,
  created_at timestamp not null default now(),
  updated_at timestamp not null default now()
);
create table apikey (
  id text primary key,
  config_id text not null default 'default',
  name text,
  start text,
  reference_id text not null,
  prefix text,
  key text not null,
  refill_interval integer,
  refill_amount integer,
  last_refill_at timestamp,
  enabled boolean default true,
  rate_limit_enabled boolean default true,
  rate_limit_time_window integer default 86400000,
  rate_limit_max integer default 10,
  request_count integer default 0,
  remaining integer,
  last_request timestamp,
  expires_at timestamp,
  created_at timestamp not null,
  updated_at timestamp not null,
  permissions text,
  metadata text
);
create index apikey_config_id_idx on apikey (config_id);
create index apikey_reference_id_idx on apikey (reference_id);
create index apikey_key_idx on apikey (key);
