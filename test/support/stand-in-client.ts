/** The GitHub App the tests' stand-in GitHub knows (not a secret: a loopback test double). */
export const STAND_IN_CLIENT = { id: 'Iv1.standin0000000001', secret: 'stand-in-client-secret' };
