/** duality/server/jwt: bearer JWTs verified with jose (web-standard; jose is its peer). */
export { jwtAuthenticator, type JwtAuthenticatorOptions } from './jwtAuthenticator.ts'
